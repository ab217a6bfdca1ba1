/** `tm up`: the local stack on localhost:8080 with three agents, until Ctrl-C. */
import { startStack } from '../local/stack.ts';
import { LOCAL_DEFAULTS, say } from './local-defaults.ts';

export async function up(): Promise<number> {
  const stack = await startStack({ ...LOCAL_DEFAULTS, log: say });
  say(`\nTM Scheduler is up.`);
  say(`  API          ${LOCAL_DEFAULTS.publicUrl}/v1/health`);
  say(`  workers      ${stack.agents.map((a) => a.address).join(', ')}`);
  say(`  state, logs  ${LOCAL_DEFAULTS.stateDir}/ (join token in ${stack.tokenFile})`);
  say(`\nPress Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('\nstopping …');
  await stack.stop();
  say('stopped.');
  return 0;
}
