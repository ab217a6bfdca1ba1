/** The local embedded stack: control plane, registered workers and their agent processes. */
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { agentFingerprint, agentKeyFile, startAgent, type AgentProcess } from './agent-process.ts';
import { ensureAdminToken, ensureJoinToken } from './secrets.ts';
import { TmClient } from '../sdk/client.ts';
import { LOCAL_S3_CREDENTIALS, startS3Server, type S3Server } from './s3-server.ts';
import { freePort } from './ports.ts';
import { ensureLocalTls } from './tls.ts';
import { makePrivate, PRIVATE_UMASK } from './private-files.ts';
import { refuseTakenPorts } from './port-holders.ts';
import { ensureAgentBuilt } from './agent-build.ts';
import type { LogFormat } from '../../protocol/index.ts';

export interface StackOptions {
  stateDir: string;
  port: number;
  /** Ports of the local agents; each serves /healthz at localhost:PORT. */
  agentPorts: number[];
  agentSlots?: number;
  vars?: Record<string, string>;
  /** Port of the loopback S3 server (bucket `test-bucket`, registered as a store); none if absent. */
  s3Port?: number;
  /** Serve https and wss with the local CA's certificate (`<stateDir>/tls/`); default http. */
  tls?: boolean;
  /** How the control plane (TM_LOG_FORMAT) and the agents (--log-format) write their log lines. */
  logFormat?: LogFormat;
  log?: (line: string) => void;
}

export interface Stack {
  url: string;
  client: TmClient;
  controlPlane: ControlPlane;
  agents: AgentProcess[];
  tokenFile: string;
  /** The CA file clients and agents trust, when the stack serves TLS. */
  caFile: string | null;
  /** The loopback S3 server, when the stack runs one. */
  s3: S3Server | null;
  /**
   * Registers `address` (default: localhost on a free port) unless it is known, starts its agent
   * and adds it to `agents`; with the address of a dead agent it restarts that worker.
   */
  addAgent(address?: string): Promise<AgentProcess>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  ensureAgentBuilt();
  // What this process writes from now on is its owner's only, like what its children write.
  process.umask(PRIVATE_UMASK);
  await refuseTakenPorts([
    { port: options.port, what: 'the control plane' },
    ...(options.s3Port ? [{ port: options.s3Port, what: 'the S3 server' }] : []),
    ...options.agentPorts.map((port) => ({ port, what: 'an agent' })),
  ]);
  const loosened = makePrivate(options.stateDir);
  if (loosened.length > 0)
    log(`made ${loosened.length} files and folders under ${options.stateDir} private (0600/0700)`);
  const { token, file: tokenFile } = ensureJoinToken(options.stateDir);
  const admin = ensureAdminToken(options.stateDir);
  const tls = options.tls ? ensureLocalTls(options.stateDir) : undefined;
  if (tls?.created) log(`made a TLS certificate for localhost, signed by the CA ${tls.caFile}`);
  const scheme = tls ? 'https' : 'http';
  log(`starting the control plane (wrangler dev) on ${scheme}://localhost:${options.port} …`);
  const controlPlane = await startControlPlane({
    stateDir: options.stateDir,
    port: options.port,
    joinToken: token,
    adminToken: admin.token,
    vars: { ...options.vars, ...(options.logFormat ? { TM_LOG_FORMAT: options.logFormat } : {}) },
    tls,
  });
  const client = new TmClient(controlPlane.url, {
    token: admin.token,
    fetch: controlPlane.fetch,
  });
  const agents: AgentProcess[] = [];
  let s3: S3Server | null = null;
  const stop = async () => {
    await Promise.all(agents.map((agent) => agent.stop(3000)));
    await controlPlane.stop();
    await s3?.stop();
  };
  const addAgent = async (address?: string) => {
    const where = address ?? `localhost:${await freePort()}`;
    // Registered with its key's fingerprint, the agent is approved from its first hello.
    const keyFile = agentKeyFile(options.stateDir, where);
    const { created } = await client.registerWorker({
      address: where,
      fingerprint: agentFingerprint(keyFile),
    });
    log(`${created ? 'registered' : 'found'} worker ${where}; starting its agent …`);
    const agent = await startAgent({
      controlPlane: controlPlane.url,
      tokenFile,
      address: where,
      keyFile,
      logDir: join(options.stateDir, 'logs'),
      ...(options.agentSlots ? { slots: options.agentSlots } : {}),
      extraArgs: [
        ...(tls ? ['--ca-file', tls.caFile] : []),
        ...(options.logFormat ? ['--log-format', options.logFormat] : []),
      ],
    });
    agents.push(agent);
    return agent;
  };
  try {
    if (options.s3Port) {
      s3 = await startLocalStore(client, options.stateDir, options.s3Port);
      log(`object store s3://${LOCAL_BUCKET} served at ${s3.endpoint} and registered`);
    }
    for (const port of options.agentPorts) await addAgent(`localhost:${port}`);
    await waitForConnected(client, options.agentPorts.length);
  } catch (error) {
    await stop();
    throw error;
  }
  const caFile = tls?.caFile ?? null;
  return {
    url: controlPlane.url,
    client,
    controlPlane,
    agents,
    tokenFile,
    caFile,
    s3,
    addAgent,
    stop,
  };
}

export const LOCAL_BUCKET = 'test-bucket';

/** Starts the loopback S3 server with `test-bucket` and registers it as the store `test-bucket`. */
async function startLocalStore(
  client: TmClient,
  stateDir: string,
  port: number,
): Promise<S3Server> {
  const s3 = await startS3Server({
    dir: join(stateDir, 's3'),
    port,
    buckets: [LOCAL_BUCKET],
    logFile: join(stateDir, 'logs', 's3.log'),
  });
  try {
    await client.registerStore({
      name: LOCAL_BUCKET,
      url: `s3://${LOCAL_BUCKET}`,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      ...LOCAL_S3_CREDENTIALS,
    });
  } catch (error) {
    await s3.stop();
    throw error;
  }
  return s3;
}

/** Waits until `count` workers are connected and ready. */
export async function waitForConnected(
  client: TmClient,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = (await client.listWorkers()).filter((w) => w.connected && w.state === 'ready');
    if (ready.length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${ready.length} of ${count} workers connected within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
