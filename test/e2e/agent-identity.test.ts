/**
 * End to end: agent identity on the real stack. A real agent binds its key at its first hello and
 * waits as pending until the admin approves it; a forged agent holding the worker's valid join
 * token and address but its own key is rejected and changes nothing; the agent restarted with its
 * key file is the same worker; a rebuilt agent (a new key) is refused until the worker is
 * registered again, with the new key's fingerprint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startAgent, type AgentProcess } from '../../cli/local/agent-process.ts';
import { freePort } from '../../cli/local/ports.ts';
import { agentBin } from '../../cli/local/agent-build.ts';
import { signedHello } from '../support/raw-hello.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: 0 });
});
afterAll(async () => stack?.stop());

/** A worker registered here, with its own join token in a file, as an operator would set it up. */
async function registerWorker() {
  const address = `localhost:${await freePort()}`;
  const { worker, joinToken } = await stack.client.registerWorker({ address });
  if (!joinToken) throw new Error('registration returned no join token');
  const tokenFile = join(stack.stateDir, `token-${worker.id}`);
  writeFileSync(tokenFile, `${joinToken}\n`, { mode: 0o600 });
  return { worker, joinToken, address, tokenFile };
}

async function runAgent(address: string, tokenFile: string, keyFile: string) {
  const agent = await startAgent({
    controlPlane: stack.url,
    tokenFile,
    address,
    keyFile,
    workDir: stack.workDir,
    logDir: join(stack.stateDir, 'logs'),
  });
  stack.agents.push(agent);
  return agent;
}

/** Runs an agent that is expected to exit soon; returns its exit code and its log. */
function agentUntilExit(address: string, tokenFile: string, keyFile: string) {
  const child = spawn(
    process.execPath,
    [
      agentBin,
      ...['--control-plane', stack.url, '--token-file', tokenFile, '--address', address],
      ...['--work-dir', stack.workDir, '--key-file', keyFile],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (data: Buffer) => (log += data.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; log: string }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, log });
    }),
  );
}

async function readyWorker(id: string) {
  return eventually(async () => {
    const view = await stack.client.getWorker(id);
    return view.connected && view.state === 'ready' ? view : undefined;
  }, `worker ${id} to be connected and ready`);
}

/** Runs a command job and returns the worker that ran it. */
async function runCommand(): Promise<string | null | undefined> {
  const job = await stack.client.submitJob({ kind: 'command', command: 'echo identity' }, 30);
  expect(job.state).toBe('succeeded');
  return job.tasks?.[0]?.workerId;
}

/** `SHA256:` of a PEM key file's public key, computed here with node:crypto. */
function fingerprintOfKeyFile(file: string): string {
  const x = createPublicKey(createPrivateKey(readFileSync(file, 'utf8'))).export({ format: 'jwk' })
    .x as string;
  const digest = createHash('sha256').update(Buffer.from(x, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * A raw agent: answers the challenge with a correctly signed hello for `address` under its own
 * key, and returns how the control plane answered.
 */
function forgedHello(token: string, address: string, key: KeyObject) {
  return new Promise<{ frame: Record<string, unknown>; closeCode: number }>((resolve, reject) => {
    const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/v1/agent/connect`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let answer: Record<string, unknown> | null = null;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type !== 'challenge') {
        answer ??= frame;
        return;
      }
      socket.send(signedHello(String(frame.nonce), address, key, { acceptsCommands: true }));
    });
    socket.on('close', (code) =>
      answer ? resolve({ frame: answer, closeCode: code }) : reject(new Error(`closed ${code}`)),
    );
    socket.on('error', reject);
  });
}

const controlPlaneLog = () =>
  readFileSync(join(stack.stateDir, 'logs', 'control-plane.log'), 'utf8');

describe('agent identity', () => {
  let real: AgentProcess;
  let worker: Awaited<ReturnType<typeof registerWorker>>;
  let keyFile: string;

  it('binds the real agent’s key at its first hello; once approved the agent runs a command job', async () => {
    worker = await registerWorker();
    keyFile = join(stack.stateDir, 'keys', 'real', 'agent-key.pem');
    expect((await stack.client.getWorker(worker.worker.id)).keyFingerprint).toBeNull();
    real = await runAgent(worker.address, worker.tokenFile, keyFile);
    const waiting = await eventually(async () => {
      const view = await stack.client.getWorker(worker.worker.id);
      return view.connected ? view : undefined;
    }, 'the agent to connect');
    expect(waiting).toMatchObject({
      state: 'pending',
      approved: false,
      keyFingerprint: fingerprintOfKeyFile(keyFile),
    });
    await stack.client.approveWorker(worker.worker.id);
    const view = await readyWorker(worker.worker.id);
    expect(view.keyFingerprint).toBe(fingerprintOfKeyFile(keyFile));
    expect(await runCommand()).toBe(worker.worker.id);
  });

  it('rejects a forged agent with the worker’s join token and address but its own key', async () => {
    const forgedKey = generateKeyPairSync('ed25519').privateKey;
    for (const token of [worker.joinToken, stack.token]) {
      const { frame, closeCode } = await forgedHello(token, worker.address, forgedKey);
      expect(frame).toMatchObject({ type: 'reject', code: 'key_mismatch' });
      expect(closeCode).toBe(4003);
    }
    // The control plane logged each refusal, naming the worker and never a secret.
    const refusals = await eventually(() => {
      const lines = controlPlaneLog()
        .split('\n')
        .filter((line) => line.includes('rejected an agent') && line.includes('key_mismatch'));
      return lines.length >= 2 ? lines : undefined;
    }, 'the refusals in the control plane log');
    expect(refusals).toHaveLength(2);
    for (const line of refusals) {
      expect(line).toContain(worker.worker.id);
      expect(line).toContain(worker.address);
      expect(line).not.toContain(worker.joinToken);
      expect(line).not.toContain(stack.token);
    }

    // The real agent was never displaced: still the same connection, still running jobs.
    expect(real.alive()).toBe(true);
    const view = await stack.client.getWorker(worker.worker.id);
    expect(view).toMatchObject({ state: 'ready', connected: true });
    expect(view.keyFingerprint).toBe(fingerprintOfKeyFile(keyFile));
    expect(await runCommand()).toBe(worker.worker.id);
    expect(readFileSync(real.logFile, 'utf8')).not.toMatch(/disconnected from the control plane/);
  });

  it('accepts the agent restarted with the same key file as the same worker', async () => {
    real.signal('SIGKILL');
    await real.exited;
    await eventually(async () => {
      const view = await stack.client.getWorker(worker.worker.id);
      return view.connected ? undefined : view;
    }, 'the worker to lose its agent');
    real = await runAgent(worker.address, worker.tokenFile, keyFile);
    const view = await readyWorker(worker.worker.id);
    expect(view.keyFingerprint).toBe(fingerprintOfKeyFile(keyFile));
    const sameAddress = (await stack.client.listWorkers()).filter(
      (w) => w.address === worker.address,
    );
    expect(sameAddress.map((w) => w.id)).toEqual([worker.worker.id]);
    expect(await runCommand()).toBe(worker.worker.id);
  });

  it('refuses a rebuilt agent (a new key) until the worker is registered again with it', async () => {
    await real.stop(3000);
    const rebuiltKey = join(stack.stateDir, 'keys', 'rebuilt', 'agent-key.pem');
    const refused = await agentUntilExit(worker.address, worker.tokenFile, rebuiltKey);
    expect(refused.code).toBe(78);
    expect(refused.log).toMatch(/refused this agent key/);
    expect((await stack.client.getWorker(worker.worker.id)).keyFingerprint).toBe(
      fingerprintOfKeyFile(keyFile),
    );

    // Re-keying: deregister, register again with the new key's fingerprint (a new record, no
    // key bound yet, approved for that key), start the agent.
    await stack.client.deregisterWorker(worker.worker.id, true);
    const { worker: fresh, joinToken } = await stack.client.registerWorker({
      address: worker.address,
      fingerprint: fingerprintOfKeyFile(rebuiltKey),
    });
    expect(fresh.id).not.toBe(worker.worker.id);
    expect(fresh).toMatchObject({ keyFingerprint: null, approved: true });
    writeFileSync(worker.tokenFile, `${joinToken}\n`, { mode: 0o600 });
    await runAgent(worker.address, worker.tokenFile, rebuiltKey);
    const view = await readyWorker(fresh.id);
    expect(view.keyFingerprint).toBe(fingerprintOfKeyFile(rebuiltKey));
    expect(view.keyFingerprint).not.toBe(fingerprintOfKeyFile(keyFile));
    expect(await runCommand()).toBe(fresh.id);
  });
});
