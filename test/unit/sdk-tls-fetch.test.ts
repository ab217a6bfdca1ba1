/** fetchTrusting: the SDK's fetch for an https server signed by a CA of one's own. */
import { createServer, type Server } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalTls } from '../../cli/local/tls.ts';
import { fetchTrusting } from '../../cli/sdk/tls-fetch.ts';
import { TmClient } from '../../cli/sdk/client.ts';
import { TmApiError, TmConnectionError } from '../../cli/sdk/errors.ts';

let dir: string;
let server: Server;
let base: string;
let ca: Buffer;
/** Requests served per connection. */
const served = new WeakMap<Socket, number>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-tls-fetch-'));
  const tls = ensureLocalTls(dir);
  ca = readFileSync(tls.caFile);
  server = createServer(
    { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
    (request, response) => {
      served.set(request.socket, (served.get(request.socket) ?? 0) + 1);
      if (request.url === '/v1/health') {
        response.setHeader('content-type', 'application/json');
        response.setHeader('set-cookie', ['a=1', 'b=2']);
        response.end(JSON.stringify({ ok: true, connectedWorkers: 2 }));
      } else if (request.url === '/echo') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () =>
          response.end(
            JSON.stringify({ method: request.method, body, auth: request.headers.authorization }),
          ),
        );
      } else if (request.url === '/stream') {
        response.write('{"seq":1}\n');
        setTimeout(() => response.end('{"seq":2}\n'), 50);
      } else if (request.url === '/hang') {
        response.write('x');
      } else if (request.url === '/drops-reused') {
        // As a server that closed an idle kept-alive connection: a reused socket gets no answer.
        if (served.get(request.socket)! > 1) request.socket.destroy();
        else response.end('fresh');
      } else if (request.url === '/empty') {
        response.writeHead(204).end();
      } else {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'not_found', message: 'no such thing' } }));
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('fetchTrusting', () => {
  it('reaches a server the CA signed, by IP and by name', async () => {
    const fetchImpl = fetchTrusting(ca);
    const response = await fetchImpl(`${base}/v1/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await response.json()).toEqual({ ok: true, connectedWorkers: 2 });
    const byName = await fetchImpl(`${base.replace('127.0.0.1', 'localhost')}/v1/health`);
    expect(byName.ok).toBe(true);
    expect((await fetchImpl(`${base}/empty`)).status).toBe(204);
  });

  it('sends the method, headers and body', async () => {
    const response = await fetchTrusting(ca)(`${base}/echo`, {
      method: 'POST',
      headers: { authorization: 'Bearer t0k' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await response.json()).toEqual({ method: 'POST', body: '{"a":1}', auth: 'Bearer t0k' });
  });

  it('streams a body as it arrives and stops on abort', async () => {
    const fetchImpl = fetchTrusting(ca);
    const text = await (await fetchImpl(`${base}/stream`)).text();
    expect(text).toBe('{"seq":1}\n{"seq":2}\n');
    const controller = new AbortController();
    const hanging = await fetchImpl(`${base}/hang`, { signal: controller.signal });
    const reader = hanging.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
  });

  it('sends again, once, when a kept-alive connection turns out closed', async () => {
    const fetchImpl = fetchTrusting(ca);
    await (await fetchImpl(`${base}/v1/health`)).text();
    const response = await fetchImpl(`${base}/drops-reused`);
    expect(await response.text()).toBe('fresh');
  });

  it('drives the SDK, errors included', async () => {
    const client = new TmClient(base, { fetch: fetchTrusting(ca) });
    expect(await client.health()).toEqual({ ok: true, connectedWorkers: 2 });
    await expect(client.getJob('nope')).rejects.toBeInstanceOf(TmApiError);
  });

  it('fails like fetch, with the TLS verdict as the cause, without the CA', async () => {
    const error = await fetch(`${base}/v1/health`).catch((e: unknown) => e);
    const ours = await fetchTrusting('')(`${base}/v1/health`).catch((e: unknown) => e);
    for (const failure of [error, ours]) {
      expect(failure).toBeInstanceOf(TypeError);
      expect((failure as { cause: { code: string } }).cause.code).toBe(
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    }
    const client = new TmClient(base, { fetch: fetchTrusting('') });
    await expect(client.health()).rejects.toBeInstanceOf(TmConnectionError);
  });
});
