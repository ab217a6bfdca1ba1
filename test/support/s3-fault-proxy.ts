/**
 * A fault-injecting HTTP proxy in front of the loopback S3 server, switched at run time. Requests
 * pass through unless a rule matches; a rule can refuse them, answer 503 SlowDown or 500
 * InternalError, hang, or cut an upload halfway. Rules can pick methods, object keys and a number
 * of store calls, so the Durable Object's listing can pass while the agents' reads or writes fail.
 */
import {
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TmClient } from '../../cli/sdk/client.ts';
import { LOCAL_S3_CREDENTIALS } from '../../cli/local/s3-server.ts';

export type Fault =
  /** Destroys the connection without an answer (the client sees a reset). */
  | 'refuse'
  /** Answers 503 SlowDown, as S3 does when throttling. */
  | 'slow-down'
  /** Answers 500 InternalError. */
  | 'internal-error'
  /** Reads the request and never answers. */
  | 'hang'
  /** Forwards the headers and half of an upload's body, then drops both connections. */
  | 'cut-upload';

export interface FaultRule {
  fault: Fault;
  /** GET, PUT, …; any method when absent. */
  method?: string;
  /** Object keys: a prefix or a pattern. When set, requests on the bucket itself (listing) never match. */
  key?: string | RegExp;
  /**
   * Fault at most this many store calls, then let the rest through (default: every one). A call is
   * one SDK operation with all its retries (one amz-sdk-invocation-id), so `calls: 1` fails one whole
   * call whatever the client's retry count.
   */
  calls?: number;
}

export interface ProxiedRequest {
  method: string;
  bucket: string;
  /** The object key, or null for a request on the bucket (a listing). */
  key: string | null;
  /** The SDK call this request is an attempt of. */
  call: string;
  /** What the proxy did instead of passing the request on; null when it passed it on. */
  fault: Fault | null;
  /** A hung request only: true once the client gave up and closed the connection. */
  abandoned: boolean;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: register a store with this endpoint and the upstream's bucket. */
  endpoint: string;
  /** Replaces the rules (none: pass everything); the first rule that takes a request decides it. */
  setRules(...rules: FaultRule[]): void;
  /** Every request since start or the last `clearLog`, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  clearLog(): void;
  stop(): Promise<void>;
}

interface ActiveRule extends FaultRule {
  /** The calls this rule has faulted: their later attempts are faulted too. */
  faulted: Set<string>;
}

const S3_ERRORS = {
  'slow-down': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  'internal-error': {
    status: 500,
    code: 'InternalError',
    message: 'We encountered an internal error. Please try again.',
  },
} as const;

/** Bucket and key of a path-style request. */
function target(url: string): { bucket: string; key: string | null } {
  const [bucket = '', ...rest] = new URL(url, 'http://proxy').pathname.slice(1).split('/');
  const key = rest.map(decodeURIComponent).join('/');
  return { bucket: decodeURIComponent(bucket), key: rest.length === 0 || key === '' ? null : key };
}

function takes(rule: ActiveRule, request: ProxiedRequest): boolean {
  if (rule.method !== undefined && rule.method !== request.method) return false;
  if (rule.key !== undefined) {
    if (request.key === null) return false;
    const matches =
      typeof rule.key === 'string' ? request.key.startsWith(rule.key) : rule.key.test(request.key);
    if (!matches) return false;
  }
  if (rule.faulted.has(request.call)) return true;
  if (rule.faulted.size >= (rule.calls ?? Infinity)) return false;
  rule.faulted.add(request.call);
  return true;
}

function answerError(req: IncomingMessage, res: ServerResponse, fault: keyof typeof S3_ERRORS) {
  const { status, code, message } = S3_ERRORS[fault];
  // Read the whole request first, so an upload is not broken off by the early answer.
  req.resume();
  req.once('end', () => {
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'fault-proxy' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
        `<RequestId>fault-proxy</RequestId></Error>`,
    );
  });
}

/** Passes the request upstream; with `cutAt`, only that many body bytes, then drops both sides. */
function forward(req: IncomingMessage, res: ServerResponse, upstream: URL, cutAt?: number) {
  const headers = { ...req.headers };
  // The proxy already answered any `Expect: 100-continue`; the Host header stays, it is signed.
  delete headers.expect;
  const out = forwardRequest({
    host: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers,
  });
  out.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => req.socket.destroy());
  if (cutAt === undefined) {
    req.pipe(out);
    return;
  }
  let sent = 0;
  req.on('data', (chunk: Buffer) => {
    if (sent >= cutAt) return;
    const piece = chunk.subarray(0, cutAt - sent);
    sent += piece.byteLength;
    if (sent < cutAt) {
      out.write(piece);
      return;
    }
    // Once the half is on its way upstream, both connections go down mid-upload.
    out.write(piece, () => {
      out.destroy();
      req.socket.destroy();
    });
  });
}

export async function startFaultProxy(upstreamEndpoint: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  let rules: ActiveRule[] = [];
  let requests: ProxiedRequest[] = [];
  let unnamed = 0;

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const header = req.headers['amz-sdk-invocation-id'];
    const request: ProxiedRequest = {
      method,
      ...target(req.url ?? '/'),
      call: typeof header === 'string' ? header : `request-${++unnamed}`,
      fault: null,
      abandoned: false,
    };
    request.fault = rules.find((rule) => takes(rule, request))?.fault ?? null;
    requests.push(request);
    switch (request.fault) {
      case null:
        return forward(req, res, upstream);
      case 'refuse':
        return req.socket.destroy();
      case 'hang':
        // Never answered, so the response only closes when the client gives up.
        res.once('close', () => (request.abandoned = true));
        return req.resume();
      case 'cut-upload': {
        const length = Number(req.headers['content-length'] ?? 0);
        // Nothing to cut in half: drop the connection at once.
        return length > 1
          ? forward(req, res, upstream, Math.floor(length / 2))
          : req.socket.destroy();
      }
      default:
        return answerError(req, res, request.fault);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRules(...next) {
      rules = next.map((rule) => ({ ...rule, faulted: new Set<string>() }));
    },
    get requests() {
      return requests;
    },
    clearLog() {
      requests = [];
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung requests never end by themselves.
        server.closeAllConnections();
      });
    },
  };
}

/** Registers the loopback bucket as store `name`, reached through `proxy`, with the local keys. */
export async function registerProxiedStore(
  client: TmClient,
  name: string,
  proxy: FaultProxy,
): Promise<void> {
  await client.registerStore({
    name,
    url: 's3://test-bucket',
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...LOCAL_S3_CREDENTIALS,
  });
}
