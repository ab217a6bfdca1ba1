/** The `tm` command: run the local stack and drive the scheduler from a terminal. */
import { up } from './commands/up.ts';
import { demo } from './commands/demo.ts';

const USAGE = `usage: tm <command>

commands:
  up          start the local stack (control plane on :8080, three agents) until Ctrl-C
  demo        start the local stack, run a command job on every worker, show its output
              (--keep leaves the stack running afterwards)
`;

// Node 20 is the pinned runtime (see README); the AWS SDK's Node 22 notice would clutter the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up();
    case 'demo':
      return demo(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`tm: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
