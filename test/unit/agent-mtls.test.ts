/**
 * The real tm-agent against a fake control plane on wss that asks for a client certificate and,
 * like a Cloudflare mTLS rule, answers 403 to an agent without a verified one.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { agentBin } from '../../cli/local/agent-build.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/local/ports.ts';
import { ensureLocalTls, type LocalTls } from '../../cli/local/tls.ts';
import { eventually } from './agent-helpers.ts';

let dir: string;
let tls: LocalTls;
let clientCert: string;
let clientKey: string;
let server: Server;
/** Common names of the client certificates that reached the WebSocket, one per connection. */
const connected: string[] = [];
let refused = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-agent-mtls-'));
  tls = ensureLocalTls(dir);
  clientCert = join(dir, 'agent.pem');
  clientKey = join(dir, 'agent-key.pem');
  // A self-signed client certificate, as Cloudflare's CA would issue one to the agent.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      clientKey,
      '-out',
      clientCert,
      '-subj',
      '/CN=tm-agent-test',
      '-days',
      '1',
      '-addext',
      'extendedKeyUsage=clientAuth',
    ],
    { stdio: 'ignore' },
  );
  server = createServer({
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ca: readFileSync(clientCert),
    requestCert: true,
    rejectUnauthorized: false,
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const peer = request.socket as TLSSocket;
    if (!peer.authorized) {
      refused++;
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      connected.push(String(peer.getPeerCertificate().subject.CN));
      ws.close(1000, 'enough');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const agents: ChildProcess[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.kill('SIGKILL');
});

/** Starts tm-agent against the fake; returns a reader of its log. */
async function startAgent(extra: string[], env: Record<string, string> = {}) {
  const port = (server.address() as AddressInfo).port;
  const child = spawn(
    process.execPath,
    [
      agentBin,
      '--control-plane',
      `https://localhost:${port}`,
      '--address',
      `127.0.0.1:${await freePort()}`,
      '--work-dir',
      dir,
      '--log-format',
      'json',
      ...extra,
    ],
    {
      env: { ...process.env, TM_JOIN_TOKEN: 'tm-test-token', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  agents.push(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return () => log;
}

describe('tm-agent and mTLS', () => {
  it('presents its client certificate over wss, trusting the CA file', async () => {
    const before = connected.length;
    await startAgent(['--ca-file', tls.caFile, '--client-cert', clientCert], {
      TM_CLIENT_KEY: clientKey,
    });
    await eventually(() => (connected.length > before ? true : undefined), 'a connection');
    expect(connected.at(-1)).toBe('tm-agent-test');
  });

  it('without a client certificate, is refused with 403 and told about --client-cert', async () => {
    const refusedBefore = refused;
    const log = await startAgent(['--ca-file', tls.caFile]);
    const line = await eventually(
      () =>
        log()
          .split('\n')
          .find((l) => l.includes('"status":403')),
      'a 403 in the log',
    );
    expect(refused).toBeGreaterThan(refusedBefore);
    expect(JSON.parse(line)).toMatchObject({
      message: 'the control plane refused the connection',
      hint: expect.stringMatching(/Cloudflare mTLS.*--client-cert and --client-key/),
    });
  });
});
