/** How a demo stops the processes it started: at once on a signal, or once it has run. */
import type { Stack } from '../local/stack.ts';
import { killAllChildren, refuseNewChildren, stopAllChildren } from '../local/child.ts';
import { watchStopSignals } from '../local/stop-signals.ts';
import { say } from '../commands/local-defaults.ts';

export interface DemoSignals {
  /** Resolves with the first SIGINT, SIGTERM or SIGHUP. */
  first: Promise<NodeJS.Signals>;
  /** From now on the caller handles the first signal itself (`--keep`'s wait). */
  hold(): void;
}

/**
 * A signal at any moment (start-up included) stops every process the demo started and exits 130,
 * as `tm up` does; unless `hold()` was called first.
 */
export function stopOnSignal(): DemoSignals {
  const signals = watchStopSignals(say);
  process.on('exit', killAllChildren);
  let held = false;
  void signals.first.then(async () => {
    if (held) return;
    say('\nstopping …');
    refuseNewChildren();
    await stopAllChildren();
    say('stopped.');
    process.exit(130);
  });
  return { first: signals.first, hold: () => (held = true) };
}

/** Stops the stack's agents and control plane, then anything else the demo started. */
export async function stopStack(stack: Stack): Promise<void> {
  refuseNewChildren();
  await stack.stop();
  await stopAllChildren();
}
