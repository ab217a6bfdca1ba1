/**
 * A `fetch` for Node that trusts a CA of your own (a local stack's, a private one) besides the
 * system's, for `new TmClient(url, { fetch: fetchTrusting(ca) })`. Node 20's global fetch takes no
 * CA per call, so https requests go through node:https; http ones go to the global fetch.
 * Node only: a Worker keeps the client's default fetch.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { rootCertificates } from 'node:tls';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export interface TrustOptions {
  /** A client certificate and its key (PEM), for a control plane that asks for one (mTLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** Statuses whose response has no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * A fetch whose https requests trust `ca` (PEM, one or more certificates) besides the system's
 * CAs; with `ca` undefined, the system's only (for a client certificate alone).
 */
export function fetchTrusting(
  ca: string | Buffer | undefined,
  options: TrustOptions = {},
): typeof fetch {
  const agent = new Agent({
    ...(ca ? { ca: [...rootCertificates, ca.toString()] } : {}),
    keepAlive: true,
    ...(options.cert ? { cert: options.cert, key: options.key } : {}),
  });
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') return fetch(request);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const send = (retry: boolean) =>
      new Promise<Response>((resolve, reject) => {
        const outgoing = httpsRequest(
          url,
          {
            method: request.method,
            headers: Object.fromEntries(request.headers),
            agent,
            signal: request.signal,
          },
          (incoming) => resolve(toResponse(incoming, request.method)),
        );
        outgoing.once('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive connection the server closed while idle: the request never reached it.
          if (retry && outgoing.reusedSocket && error.code === 'ECONNRESET') resolve(send(false));
          else reject(new TypeError('fetch failed', { cause: error }));
        });
        outgoing.end(body);
      });
    return send(true);
  };
}

function toResponse(incoming: IncomingMessage, method: string): Response {
  const status = incoming.statusCode ?? 500;
  const empty = NULL_BODY.has(status) || method === 'HEAD';
  if (empty) incoming.resume();
  const body = empty
    ? null
    : (Readable.toWeb(incoming) as unknown as NodeReadableStream<Uint8Array>);
  return new Response(body, {
    status,
    statusText: incoming.statusMessage ?? '',
    headers: toHeaders(incoming.headers),
  });
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}
