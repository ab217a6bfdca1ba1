/**
 * End-to-end harness: a real control plane (`wrangler dev`) and real agent processes on free
 * loopback ports, each stack with its own temp state dir and agent work dir.
 */
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../cli/local/control-plane.ts';
import {
  agentFingerprint,
  agentKeyFile,
  startAgent,
  type AgentProcess,
} from '../../cli/local/agent-process.ts';
import { ensureAdminToken, ensureJoinToken } from '../../cli/local/secrets.ts';
import { freePort } from '../../cli/local/ports.ts';
import { examplesDir } from '../../cli/local/repo.ts';
import { ensureLocalTls } from '../../cli/local/tls.ts';
import { waitForConnected } from '../../cli/local/stack.ts';
import { TmClient } from '../../cli/sdk/client.ts';
import {
  LOCAL_S3_CREDENTIALS,
  localStoreAccess,
  startS3Server,
  type S3Server,
} from '../../cli/local/s3-server.ts';
import type { StoreAccess } from '../../protocol/index.ts';

export interface TestStack {
  url: string;
  client: TmClient;
  /** The cluster join token agents connect with, and its file. */
  token: string;
  tokenFile: string;
  /** The admin token `client` sends; API calls made by hand need it too. */
  adminToken: string;
  stateDir: string;
  workDir: string;
  /** Where the control plane's output goes: wrangler's own lines and the Worker's log lines. */
  controlPlaneLogFile: string;
  /** The CA file that signed the control plane's certificate, when started with `tls: true`. */
  caFile: string | null;
  agents: AgentProcess[];
  /**
   * Starts one more agent, registering its address with its key's fingerprint first (so it is
   * approved from its first hello) unless `register` is false: then it joins with the cluster
   * token alone and waits as `pending` until approved.
   */
  addAgent(options?: AddAgentOptions): Promise<AgentProcess>;
  /** Stops `wrangler dev` and starts it again on the same port with the same state. */
  restartControlPlane(): Promise<void>;
  /** The loopback S3 server and how to reach it, when started with `s3: true`. */
  s3: { endpoint: string; access: StoreAccess; server: S3Server } | null;
  /** Writes an executable script into the agents' work dir. */
  writeScript(relative: string, body: string): void;
  stop(): Promise<void>;
}

export interface AddAgentOptions {
  register?: boolean;
  args?: string[];
  slots?: number;
  /** Host of the agent's address, where its health server listens (default localhost). */
  host?: string;
  /** Command the agent runs under, e.g. `['ip', 'netns', 'exec', name]`. */
  prefix?: string[];
  /** Give the agent `--ca-file` with the stack's CA (default true; only with `tls`). */
  trustCa?: boolean;
}

export interface TestStackOptions {
  agents?: number;
  slots?: number;
  vars?: Record<string, string>;
  /** Run a loopback S3 server with `test-bucket`, registered as the store `test-bucket`. */
  s3?: boolean;
  /** Address the control plane listens on, and agents dial (default 127.0.0.1). */
  listenHost?: string;
  /** Arguments every agent of the stack gets, before those of one addAgent call. */
  agentArgs?: string[];
  /** Serve https and wss with a certificate of the stack's own CA (default http). */
  tls?: boolean;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const root = mkdtempSync(join(tmpdir(), 'tm-e2e-'));
  const stateDir = join(root, 'state');
  const workDir = join(root, 'work');
  cpSync(examplesDir, workDir, { recursive: true });
  const { token, file: tokenFile } = ensureJoinToken(stateDir);
  const { token: adminToken } = ensureAdminToken(stateDir);
  const port = await freePort();
  const vars = options.vars ?? {};
  const hosts = options.listenHost ? [options.listenHost] : [];
  const tls = options.tls ? ensureLocalTls(stateDir, { hosts }) : undefined;
  const planeOptions = {
    stateDir,
    port,
    host: options.listenHost,
    joinToken: token,
    adminToken,
    vars,
    tls,
  };
  let controlPlane: ControlPlane = await startControlPlane(planeOptions);
  const client = new TmClient(controlPlane.url, { token: adminToken, fetch: controlPlane.fetch });
  const agents: AgentProcess[] = [];
  const s3 = options.s3 ? await startTestStore(client, root) : null;

  const stack: TestStack = {
    url: controlPlane.url,
    client,
    token,
    tokenFile,
    adminToken,
    stateDir,
    workDir,
    controlPlaneLogFile: join(stateDir, 'logs', 'control-plane.log'),
    caFile: tls?.caFile ?? null,
    agents,
    s3,
    async addAgent(agentOptions = {}) {
      const address = `${agentOptions.host ?? 'localhost'}:${await freePort()}`;
      const keyFile = agentKeyFile(stateDir, address);
      if (agentOptions.register !== false)
        await client.registerWorker({ address, fingerprint: agentFingerprint(keyFile) });
      const agent = await startAgent({
        controlPlane: controlPlane.url,
        tokenFile,
        address,
        keyFile,
        workDir,
        logDir: join(stateDir, 'logs'),
        ...((agentOptions.slots ?? options.slots)
          ? { slots: agentOptions.slots ?? options.slots }
          : {}),
        extraArgs: [
          ...(tls && agentOptions.trustCa !== false ? ['--ca-file', tls.caFile] : []),
          ...(options.agentArgs ?? []),
          ...(agentOptions.args ?? []),
        ],
        prefix: agentOptions.prefix,
      });
      agents.push(agent);
      return agent;
    },
    async restartControlPlane() {
      await controlPlane.stop();
      controlPlane = await startControlPlane(planeOptions);
    },
    writeScript(relative, body) {
      const file = join(workDir, relative);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, body, { mode: 0o755 });
    },
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop(2000)));
      await controlPlane.stop();
      await s3?.server.stop();
      // TM_KEEP_TEST_STATE=1 keeps the state dir (wrangler's and the agents' logs) for a post-mortem.
      if (!process.env.TM_KEEP_TEST_STATE) rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < (options.agents ?? 3); i++) await stack.addAgent();
    await waitForConnected(client, options.agents ?? 3);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/** A loopback S3 server with `test-bucket`, registered with the control plane as `test-bucket`. */
async function startTestStore(client: TmClient, root: string) {
  const server = await startS3Server({
    dir: join(root, 's3'),
    port: await freePort(),
    buckets: ['test-bucket'],
  });
  await client.registerStore({
    name: 'test-bucket',
    url: 's3://test-bucket',
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...LOCAL_S3_CREDENTIALS,
  });
  return {
    endpoint: server.endpoint,
    access: localStoreAccess(server.endpoint, 'test-bucket'),
    server,
  };
}
