/** `tm`'s dispatcher: finds the command, parses its flags, resolves the config, maps errors to exit codes. */
import { GLOBAL_FLAGS, flagHelp, parseArgs, splitCommand, stringFlag } from './args.ts';
import { DEFAULT_URL, readCaFile, resolveConfig, type Config } from './config.ts';
import { terminalWidth, type Command, type Ctx, type Output } from './context.ts';
import { EXIT, UsageError, describeError, exitCodeOf } from './exit.ts';
import { join } from 'node:path';
import { TmClient, type ClientOptions } from './sdk/client.ts';
import { fetchTrusting } from './sdk/tls-fetch.ts';
import { ADMIN_TOKEN_FILE } from './local/secrets.ts';
import { LOCAL_DEFAULTS } from './commands/local-defaults.ts';
import { up, demo } from './commands/local.ts';
import {
  workers,
  workersApprove,
  registerWorker,
  approveWorker,
  deregisterWorker,
} from './commands/workers.ts';
import { objectStores, addObjectStore, removeObjectStore } from './commands/object-stores.ts';
import { submitCommand, submitAggregate } from './commands/submit.ts';
import { submitJob } from './commands/submit-job.ts';
import { jobs, job, cancel } from './commands/jobs.ts';
import { logs } from './commands/logs.ts';
import { tasks, task } from './commands/tasks.ts';
import { result } from './commands/result.ts';
import { query } from './commands/query.ts';
import {
  tenants,
  createTenant,
  setTenant,
  rotateTenantToken,
  revokeTenantToken,
  setTenantWeight,
  whoami,
} from './commands/tenants.ts';
import { putPipeline, showPipeline, submitPipeline, pipelineTask } from './commands/pipelines.ts';
import { status } from './commands/status.ts';

export const COMMANDS: readonly Command[] = [
  up,
  demo,
  workers,
  workersApprove,
  registerWorker,
  approveWorker,
  deregisterWorker,
  objectStores,
  addObjectStore,
  removeObjectStore,
  submitCommand,
  submitAggregate,
  submitJob,
  jobs,
  job,
  tasks,
  task,
  logs,
  cancel,
  result,
  query,
  tenants,
  createTenant,
  setTenant,
  rotateTenantToken,
  revokeTenantToken,
  setTenantWeight,
  whoami,
  putPipeline,
  showPipeline,
  submitPipeline,
  pipelineTask,
  status,
];

/** Commands that take a subcommand word; `object-stores` alone also runs (it lists). */
const GROUPS = new Set(
  COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!),
);

export const EXIT_CODES_HELP = `exit codes:
  0  ok (a job waited for succeeded)
  1  the job failed or was cancelled, or the request failed (forbidden to this token, conflict,
     server error)
  2  usage: unknown command or option, a bad argument, a request the API rejected (400)
  3  not found: no such job, task, worker, object store, tenant, application or pipeline
  4  cannot reach the control plane`;

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: tm [--url URL | --master-addr HOST:PORT] [--token-file FILE] [--json] <command> [options]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

options of every command:
${flagHelp(GLOBAL_FLAGS)}

The control plane is --url (or --master-addr HOST:PORT), else $TM_URL, else "url" in $TM_CONFIG or ~/.config/tm/config.json,
else http://localhost:8080 (the token likewise: --token-file, $TM_TOKEN, "token"; a CA to trust for
https likewise: --ca-file, $TM_CA_FILE, "caFile").
\`tm <command> --help\` shows a command's options.

${EXIT_CODES_HELP}
`;
}

export function commandHelp(command: Command): string {
  const own = Object.keys(command.flags).length ? `options:\n${flagHelp(command.flags)}\n\n` : '';
  return `usage: tm ${command.name}${command.usage ? ' ' + command.usage : ''}

${command.summary}
${command.details ? `\n${command.details}\n` : ''}
${own}${command.local ? '' : `options of every command:\n${flagHelp(GLOBAL_FLAGS)}\n\n`}${EXIT_CODES_HELP}
`;
}

/** The token, and a fetch that trusts the CA file when there is one. */
function clientOptions(config: Config): ClientOptions {
  return {
    ...(config.token ? { token: config.token } : {}),
    ...(config.caFile ? { fetch: fetchTrusting(readCaFile(config.caFile)) } : {}),
  };
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.split(' ')[0] === group);
  const width = Math.max(...members.map((c) => c.name.length));
  return `usage: tm ${group} <${members
    .map((c) => c.name.split(' ')[1])
    .filter(Boolean)
    .join('|')}> [options]

${members.map((c) => `  tm ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

\`tm ${group} <command> --help\` shows a command's options.
`;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
}

/** Finds the command named by the first one or two words. */
export function findCommand(argv: readonly string[]): {
  command?: Command;
  name?: string;
  rest: string[];
} {
  const { command: first, rest } = splitCommand(argv);
  if (first === undefined) return { rest };
  if (GROUPS.has(first)) {
    const { command: second, rest: afterSecond } = splitCommand(rest);
    const both = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (both) return { command: both, name: both.name, rest: afterSecond };
    const alone = COMMANDS.find((c) => c.name === first);
    if (alone) return { command: alone, name: first, rest };
    return { name: second === undefined ? first : `${first} ${second}`, rest };
  }
  return { command: COMMANDS.find((c) => c.name === first), name: first, rest };
}

export async function runTm(argv: readonly string[], io: Io): Promise<number> {
  const write = (stream: Output) => (text: string) => void stream.write(text + '\n');
  const err = write(io.stderr);
  let config: Config | undefined;
  let helpHint = 'tm --help';
  try {
    const { command, name, rest } = findCommand(argv);
    const wantsHelp = rest.some((a) => a === '--help' || a === '-h') || name === 'help';
    if (!command) {
      const group = name?.split(' ')[0];
      if (group && GROUPS.has(group) && !name!.includes(' ')) {
        if (wantsHelp) {
          io.stdout.write(groupHelp(group));
          return EXIT.ok;
        }
        io.stderr.write(groupHelp(group));
        return EXIT.usage;
      }
      if (name === undefined || wantsHelp) {
        (name === undefined && !wantsHelp ? io.stderr : io.stdout).write(mainHelp());
        return name === undefined && !wantsHelp ? EXIT.usage : EXIT.ok;
      }
      if (group && GROUPS.has(group)) helpHint = `tm ${group} --help`;
      throw new UsageError(`unknown command "${name}"`);
    }
    helpHint = `tm ${command.name} --help`;
    const args = parseArgs(rest, { ...GLOBAL_FLAGS, ...command.flags });
    if (args.flags.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    // The local stack's commands need no control plane, so a broken config file cannot stop them.
    config = command.local
      ? { url: DEFAULT_URL, urlSource: 'default' }
      : resolveConfig({
          flags: {
            url: stringFlag(args, 'url'),
            masterAddr: stringFlag(args, 'master-addr'),
            tokenFile: stringFlag(args, 'token-file'),
            caFile: stringFlag(args, 'ca-file'),
          },
          env: io.env,
          localTokenFile: join(LOCAL_DEFAULTS.stateDir, ADMIN_TOKEN_FILE),
        });
    const ctx: Ctx = {
      args,
      config,
      client: new TmClient(config.url, clientOptions(config)),
      json: args.flags.json === true,
      stdout: io.stdout,
      stderr: io.stderr,
      env: io.env,
      width: terminalWidth(io.stdout, io.env),
      readStdin: io.readStdin,
      out: write(io.stdout),
      err,
      printJson: (value) => void io.stdout.write(JSON.stringify(value, null, 2) + '\n'),
    };
    return await command.run(ctx);
  } catch (error) {
    const code = exitCodeOf(error);
    err(`tm: ${describeError(error, config?.urlSource)}`);
    if (error instanceof UsageError) err(`(see ${helpHint})`);
    return code;
  }
}
