/** `tm demo`: starts the local stack, runs a command job and a distributed aggregation, shows what next. */
import { startStack, type Stack } from '../local/stack.ts';
import { TmClient } from '../sdk/client.ts';
import { ensureAdminToken } from '../local/secrets.ts';
import { LOCAL_DEFAULTS, say } from './local-defaults.ts';
import { commandStep } from '../demo/command-step.ts';
import { aggregateStep } from '../demo/aggregate-step.ts';
import { stopOnSignal, stopStack } from '../demo/demo-stop.ts';

export async function demo(args: string[]): Promise<number> {
  // A signal at any moment (start-up included) stops every process the demo started, as `tm up`.
  const signals = stopOnSignal();
  const keep = args.includes('--keep');
  const running = await isRunning(LOCAL_DEFAULTS.publicUrl);
  const stack: Stack | null = running ? null : await startStack({ ...LOCAL_DEFAULTS, log: say });
  const client =
    stack?.client ??
    new TmClient(LOCAL_DEFAULTS.publicUrl, {
      token: ensureAdminToken(LOCAL_DEFAULTS.stateDir).token,
    });
  if (running) say(`using the stack already running at ${LOCAL_DEFAULTS.publicUrl}`);
  try {
    const command = await commandStep(client, say);
    const aggregate = await aggregateStep(client, say);
    whatNext(aggregate.id);
    return command.state === 'succeeded' && aggregate.state === 'succeeded' ? 0 : 1;
  } finally {
    if (stack && keep) {
      signals.hold(); // --keep's wait stops the stack itself.
      say('\nthe stack stays up (--keep); press Ctrl-C to stop it.');
      await signals.first;
    }
    if (stack) {
      say(keep ? 'stopping …' : '\nstopping the local stack (run `npm start` to keep one up) …');
      await stopStack(stack);
    }
  }
}

async function isRunning(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

function whatNext(jobId: string): void {
  const url = LOCAL_DEFAULTS.publicUrl;
  say(`
The API is at ${url}/v1 while the stack runs (\`npm start\` keeps it up), and the dashboard at
${url}/; the admin token is in .tm/admin-token (\`tm\` and the Python client find it there by
themselves, and the dashboard asks for it). Try:
  export AUTH="Authorization: Bearer $(cat .tm/admin-token)"
  curl -H "$AUTH" ${url}/v1/workers
  curl -H "$AUTH" "${url}/v1/object-stores/test-bucket/objects?prefix=samples/"
  curl -H "$AUTH" ${url}/v1/jobs/${jobId}
  curl -H "$AUTH" "${url}/v1/jobs/${jobId}/result?format=json"
  curl -H "$AUTH" -X POST "${url}/v1/jobs?wait=60" -d '{"kind":"aggregate","source":{"store":"test-bucket","prefix":"samples/sales/","format":"parquet"},"groupBy":["product"],"aggregates":[{"op":"sum","column":"quantity"}],"orderBy":[{"column":"sum(quantity)","desc":true}],"limit":5}'
  npx tm query "SELECT region, count(*), avg(price) FROM 's3://test-bucket/samples/sales/' WHERE quantity > 5 GROUP BY region ORDER BY 2 DESC LIMIT 10"
See README.md for the API, the agent and how to deploy to Cloudflare.`);
}
