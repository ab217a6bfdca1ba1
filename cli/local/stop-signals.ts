/**
 * SIGINT, SIGTERM and SIGHUP while the local stack runs or starts. The first one starts the stop;
 * later ones are noted and change nothing, so a second SIGINT (`npm start` forwards the
 * terminal's, which the process also gets itself) cannot cut the stop short. The stop needs no
 * forcing: each child gets SIGTERM, another halfway through its grace, then SIGKILL (child.ts).
 */

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopSignals {
  /** Resolves with the first signal. */
  first: Promise<NodeJS.Signals>;
  /** Removes the handlers (the default actions come back). */
  dispose(): void;
}

export function watchStopSignals(say: (line: string) => void): StopSignals {
  let received = 0;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) resolveFirst(signal);
    else say(`${signal} again: still stopping everything this started; it ends by itself.`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return {
    first,
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
    },
  };
}
