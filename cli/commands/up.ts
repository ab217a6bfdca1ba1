/** `tm up`: the local stack on localhost:8080 with three agents, until Ctrl-C; `--tls` for https. */
import { relative } from 'node:path';
import { startStack } from '../local/stack.ts';
import { LOCAL_DEFAULTS, say } from './local-defaults.ts';

export async function up(options: { tls?: boolean } = {}): Promise<number> {
  const stack = await startStack({ ...LOCAL_DEFAULTS, tls: options.tls, log: say });
  const url = options.tls
    ? LOCAL_DEFAULTS.publicUrl.replace(/^http:/, 'https:')
    : LOCAL_DEFAULTS.publicUrl;
  say(`\nTM Scheduler is up.`);
  say(`  API          ${url}/v1/health`);
  say(`  workers      ${stack.agents.map((a) => a.address).join(', ')}`);
  say(`  state, logs  ${LOCAL_DEFAULTS.stateDir}/ (join token in ${stack.tokenFile})`);
  if (stack.caFile) say(trustHelp(url, relative(process.cwd(), stack.caFile) || stack.caFile));
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

/** How each client trusts the local CA. */
function trustHelp(url: string, ca: string): string {
  return `  TLS CA       ${ca} (signed the certificate of localhost, 127.0.0.1 and ::1); trust it:
    tm           tm --url ${url} --ca-file ${ca} workers   (or TM_CA_FILE=${ca})
    tm-agent     tm-agent --control-plane ${url} --ca-file ${ca} …
    Python       tm.NewSession("${url}", ca_file="${ca}")   (or TM_CA_FILE)
    TypeScript   new TmClient("${url}", { fetch: fetchTrusting(readFileSync("${ca}")) })
    curl         curl --cacert ${ca} ${url}/v1/health`;
}
