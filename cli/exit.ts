/** Exit codes scripts can rely on, and how an error maps to one. */
import { TmApiError, TmConnectionError } from './sdk/errors.ts';
import { tlsProblem } from '../protocol/tls-problems.ts';

export const EXIT = {
  /** Done; a job the command waited for succeeded. */
  ok: 0,
  /** The job failed or was cancelled, or the request failed otherwise (conflict, server error). */
  failed: 1,
  /** Bad usage: unknown command or option, a missing or malformed argument, a 400 from the API. */
  usage: 2,
  /** No such job, task, worker or object store (404). */
  notFound: 3,
  /** The control plane cannot be reached. */
  unreachable: 4,
} as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof TmConnectionError) return EXIT.unreachable;
  if (error instanceof TmApiError) {
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 400) return EXIT.usage;
  }
  return EXIT.failed;
}

/** The text `tm` prints for an error (without the `tm: ` prefix), with a hint where one helps. */
export function describeError(error: unknown, source?: string): string {
  if (error instanceof TmConnectionError) {
    const cause = (error.cause as { cause?: { code?: string; message?: string } } | undefined)
      ?.cause;
    const why = cause?.code ?? cause?.message ?? 'connection failed';
    const tls = tlsHint(cause?.code, error.url);
    return (
      `cannot reach the control plane at ${error.url} (${why}${tls ? `: ${cause?.message}` : ''})\n` +
      (tls ??
        `hint: start a local one with \`npx tm up\`, or point --url, TM_URL or the config file at yours`) +
      (source ? ` (the URL came from ${source})` : '')
    );
  }
  if (error instanceof TmApiError) {
    const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)
      ?.issues;
    const more =
      issues && issues.length > 1
        ? '\n' + issues.map((i) => `  ${i.path || '(body)'}: ${i.message}`).join('\n')
        : '';
    return `${error.message} (${error.code}, HTTP ${error.status})${more}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** What to do about a TLS failure (or https spoken to plain http, or the reverse); else undefined. */
function tlsHint(code: string | undefined, url: string): string | undefined {
  const problem = tlsProblem(code);
  if (problem === 'untrusted')
    return `hint: the control plane's TLS certificate is not trusted; pass --ca-file FILE (or TM_CA_FILE, or "caFile" in the config file) with the CA that signed it (\`tm up --tls\` writes .tm/tls/ca.pem)`;
  if (problem === 'out_of_date')
    return `hint: the control plane's TLS certificate is not valid now; renew it`;
  if (problem === 'wrong_host')
    return `hint: the control plane's TLS certificate does not name this host; use a host it covers in the URL`;
  if (problem === 'not_tls') return `hint: the server does not speak TLS there; use an http:// URL`;
  if (url.startsWith('http:') && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET'))
    return `hint: the server closed the connection without answering; if it serves https (\`tm up --tls\`), use an https:// URL`;
  return undefined;
}
