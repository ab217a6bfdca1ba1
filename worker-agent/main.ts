/** tm-agent's entry: parse options, serve health, connect, and handle signals and `bye`. */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { Agent } from './agent.ts';
import { parseArgs } from './args.ts';
import type { AgentOptions } from './args.ts';
import { ConfigError } from './config-file.ts';
import { startHealthServer } from './health-server.ts';
import { loadIdentity } from './identity.ts';
import type { LoadedIdentity } from './identity.ts';
import { createLogger, isLogLevel } from './logger.ts';
import type { Logger } from './logger.ts';
import { killAllGroups, useLedger } from './process-groups.ts';
import { ledgerPath } from './group-ledger.ts';
import { chooseIsolation, probeBwrap } from './sandbox/sandbox.ts';
import { agentVersion } from './version.ts';
import type { Isolation } from '../protocol/index.ts';

const EXIT_USAGE = 2;
/**
 * sysexits' EX_CONFIG, for what a restart will not fix, so a unit can stop retrying: the
 * control plane refused this agent's key or its lack of a sandbox, the sandbox it was told to use
 * does not work here, or its settings are wrong.
 */
const EXIT_CONFIG = 78;
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function readOptions(): AgentOptions {
  try {
    const parsed = parseArgs(process.argv.slice(2), {
      env: process.env,
      cwd: process.cwd(),
      defaultSlots: availableParallelism(),
      readFile: (path) => readFileSync(path, 'utf8'),
      isDirectory: (path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
      isExecutable,
      homeDir: homeDir(),
    });
    if (parsed.kind === 'run') return parsed.options;
    if (parsed.kind === 'fingerprint') printFingerprint(parsed.keyFile);
    else if (parsed.kind === 'version') process.stdout.write(`tm-agent ${agentVersion()}\n`);
    else process.stdout.write(parsed.text);
    process.exit(0);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tm-agent: ${message}\nRun tm-agent --help for usage.\n`);
    process.exit(error instanceof ConfigError ? EXIT_CONFIG : EXIT_USAGE);
  }
}

/** `--print-fingerprint`: the key's fingerprint on stdout (the key file made if missing). */
function printFingerprint(keyFile: string): void {
  const { identity, created } = loadIdentity(keyFile);
  if (created) process.stderr.write(`tm-agent: made a new agent key in ${keyFile}\n`);
  process.stdout.write(`${identity.fingerprint}\n`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The user's home directory; '' when there is none (then --key-file is required). */
function homeDir(): string {
  try {
    return homedir();
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const level = process.env.TM_LOG_LEVEL;
  const logger = createLogger({
    secrets: [options.token],
    level: isLogLevel(level) ? level : 'info',
    format: options.logFormat,
  });
  // Whatever ends the process, no task's process group outlives it; after a SIGKILL, which no
  // handler sees, the next agent at this address stops them from the ledger.
  process.on('exit', () => killAllGroups('SIGKILL'));
  // A ledger folder of another user, a symlink, or a file is refused (private-dir.ts): say so.
  let orphans: number[] = [];
  try {
    orphans = useLedger(ledgerPath(options.address));
  } catch (error) {
    logger.error('cannot keep the process-group ledger; set XDG_RUNTIME_DIR or TMPDIR', {
      error: error instanceof Error ? error.message : String(error),
    });
    process.exit(1);
  }
  if (orphans.length > 0)
    logger.warn('stopped task processes a previous agent at this address left running', {
      pids: orphans,
    });
  process.on('uncaughtException', (error) => fatal(logger, error));
  process.on('unhandledRejection', (error) => fatal(logger, error));
  const { identity } = readIdentity(options.keyFile, logger);
  const isolation = readIsolation(options, logger);

  /** running → draining (first signal); running or draining → stopping (bye). */
  let phase: 'running' | 'draining' | 'stopping' = 'running';
  const exitAfter = (work: Promise<void>, code: number) =>
    work.then(
      () => process.exit(code),
      (error: unknown) => fatal(logger, error),
    );
  const agent = new Agent({
    options,
    logger,
    agentVersion: agentVersion(),
    identity,
    isolation,
    onBye: () => {
      // A bye also overrides a drain in progress: the control plane wants the agent gone now.
      if (phase === 'stopping') return;
      phase = 'stopping';
      void exitAfter(agent.shutdown('the control plane said bye'), 0);
    },
    onRefused: (code, message) => {
      if (code === 'isolation_required') {
        logger.error('the control plane requires sandboxed tasks; not retrying', { code, message });
        if (phase === 'stopping') return;
        phase = 'stopping';
        void exitAfter(agent.shutdown('the control plane requires isolation'), EXIT_CONFIG);
        return;
      }
      logger.error(
        'the control plane refused this agent key for its worker; not retrying. If this machine was rebuilt, deregister the worker and register it again; otherwise another agent holds this address',
        { code, keyFile: options.keyFile, fingerprint: identity.fingerprint },
      );
      if (phase === 'stopping') return;
      phase = 'stopping';
      void exitAfter(agent.shutdown('the control plane refused this agent key'), EXIT_CONFIG);
    },
  });

  try {
    await startHealthServer({
      host: options.listenHost,
      port: options.listenPort,
      snapshot: () => agent.snapshot(),
    });
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  logger.info('tm-agent started', {
    address: options.address,
    slots: options.slots,
    workDir: options.workDir,
    acceptsCommands: options.acceptsCommands,
    executors: Object.keys(options.executors),
    isolation,
    taskNetwork: isolation === 'bwrap' ? options.taskNetwork : true,
  });
  agent.start().catch((error: unknown) => {
    logger.error('cannot listen for records from peer agents', { error: String(error) });
    process.exit(1);
  });

  const onSignal = (signal: NodeJS.Signals) => {
    if (phase === 'running') {
      phase = 'draining';
      logger.info('draining: refusing new tasks, waiting for running ones; signal again to kill', {
        signal,
        running: agent.runner.runningCount,
      });
      void exitAfter(agent.drain(), 0);
      return;
    }
    logger.warn('killing every task and exiting now', { signal });
    killAllGroups('SIGKILL');
    process.exit(SIGNAL_EXIT[signal] ?? 1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * bwrap, none, or for auto what works here; exits 78 when bwrap is asked for and does not work:
 * a restart would not install it, so a unit must not loop on it.
 */
function readIsolation(options: AgentOptions, logger: Logger): Isolation {
  try {
    const chosen = chooseIsolation(options.isolation, () => probeBwrap(options.taskNetwork));
    if (chosen.warning) logger.warn(chosen.warning);
    return chosen.isolation;
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(EXIT_CONFIG);
  }
}

/** Loads or makes the agent's key; exits with a clear message when it cannot. */
function readIdentity(keyFile: string, logger: Logger): LoadedIdentity {
  let loaded: LoadedIdentity;
  try {
    loaded = loadIdentity(keyFile);
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  logger.info(loaded.created ? 'made a new agent key' : 'loaded the agent key', {
    keyFile,
    fingerprint: loaded.identity.fingerprint,
  });
  return loaded;
}

function fatal(logger: Logger, error: unknown): never {
  logger.error('fatal error; killing every task and exiting', { error });
  process.exit(1);
}

void main();
