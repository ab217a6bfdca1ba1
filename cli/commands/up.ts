/**
 * `tm up`: the local stack on localhost:8080 with three agents, until Ctrl-C; `--tls` for https.
 * Any SIGINT, SIGTERM or SIGHUP, during start-up too, stops everything it started, and it refuses
 * to start on a taken port, naming the process holding it.
 */
import { relative } from 'node:path';
import { startStack, type Stack } from '../local/stack.ts';
import { killAllChildren, refuseNewChildren, stopAllChildren } from '../local/child.ts';
import { watchStopSignals } from '../local/stop-signals.ts';
import { localStackSettings, say } from './local-defaults.ts';
import type { LogFormat } from '../../protocol/index.ts';
import { ADMIN_TOKEN_FILE } from '../local/secrets.ts';

export async function up(options: { tls?: boolean; logFormat?: LogFormat } = {}): Promise<number> {
  const settings = localStackSettings(process.env);
  // Kept until the process exits: a signal after the stop has ended must not take the default
  // action (death by SIGINT) and hide the exit code.
  const signals = watchStopSignals(say);
  // Should anything throw past the stop below, no child outlives this process.
  process.on('exit', killAllChildren);
  let stack: Stack | null = null;
  const starting = startStack({
    ...settings,
    tls: options.tls,
    logFormat: options.logFormat,
    log: say,
  }).then((started) => {
    stack = started;
  });
  try {
    const first = await Promise.race([starting.then(() => null), signals.first]);
    if (first === null) {
      banner(stack!, settings, options.tls);
      await signals.first;
    }
    say('\nstopping …');
    refuseNewChildren();
    // Agents first, so they leave the control plane cleanly; then whatever start-up had begun.
    await (stack as Stack | null)?.stop();
    await stopAllChildren();
    await starting.catch(() => {});
    say('stopped.');
    return first === null ? 0 : 130;
  } catch (error) {
    // Start-up failed: startStack stopped what it had started; this stops anything left over.
    refuseNewChildren();
    await stopAllChildren();
    throw error;
  }
}

function banner(stack: Stack, settings: { port: number; stateDir: string }, tls?: boolean) {
  const url = `${tls ? 'https' : 'http'}://localhost:${settings.port}`;
  say(`\nTM Scheduler is up.`);
  say(`  API          ${url}/v1/health`);
  say(
    `  dashboard    ${url}/ (log in with the admin token in ${settings.stateDir}/${ADMIN_TOKEN_FILE})`,
  );
  say(`  workers      ${stack.agents.map((a) => a.address).join(', ')}`);
  say(`  state, logs  ${settings.stateDir}/ (join token in ${stack.tokenFile})`);
  if (stack.caFile) say(trustHelp(url, relative(process.cwd(), stack.caFile) || stack.caFile));
  say(`\nPress Ctrl-C to stop.`);
}

/** How each client trusts the local CA. */
function trustHelp(url: string, ca: string): string {
  return `  TLS CA       ${ca} (signed the certificate of localhost, 127.0.0.1 and ::1); trust it:
    tm           tm --url ${url} --ca-file ${ca} workers   (or TM_CA_FILE=${ca})
    tm-agent     tm-agent --control-plane ${url} --ca-file ${ca} …
    Python       tm.NewSession("${url}", ca_file="${ca}")   (or TM_CA_FILE)
    TypeScript   new TmClient("${url}", { fetch: fetchTrusting(readFileSync("${ca}")) })
    curl         curl --cacert ${ca} ${url}/v1/health`;
}
