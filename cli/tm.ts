/** The `tm` command: run the local stack and drive the scheduler from a terminal (see cli/main.ts). */
import { runTm } from './main.ts';

// The AWS SDK (loaded only when the demo uploads its sample data) warns on Node 20 that its releases
// after January 2027 need Node 22. tm runs the SDK version pinned in package-lock.json, which runs
// on Node 20, so the notice says nothing about this install; this is the SDK's documented switch
// for it (aws/aws-sdk-js-v3#7983). See "Node versions" in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A closed pipe (`tm result … | head`) ends the output quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const code = await runTm(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  readStdin,
}).catch((error: unknown) => {
  process.stderr.write(`tm: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
// Let stdout drain (a pipe may still hold a large result) before exiting.
process.stdout.write('', () => process.exit(code));
