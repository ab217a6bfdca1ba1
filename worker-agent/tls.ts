/**
 * The agent's TLS, pure: the PEM files it reads for wss (a CA to trust, a client certificate for
 * Cloudflare mTLS), and what a failed TLS connection means, said so an operator can fix it.
 */
import { tlsProblem } from '../protocol/tls-problems.ts';

/** PEM text the agent's WebSocket uses; absent fields leave Node's defaults. */
export interface AgentTls {
  /** CA certificates trusted besides the system's (`--ca-file`, `TM_CA_FILE`). */
  ca?: string;
  /** A client certificate and its key, presented when the server asks (`--client-cert/-key`). */
  clientCert?: { cert: string; key: string };
}

export interface TlsFileInputs {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Reads a whole file (an absolute path); throws when it cannot. */
  read(path: string): string;
}

const CERTIFICATE = '-----BEGIN CERTIFICATE-----';
const PRIVATE_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;

/** Reads and checks the TLS files; throws a usage Error that names the option and the file. */
export function readTlsFiles(inputs: TlsFileInputs): AgentTls {
  const tls: AgentTls = {};
  if (inputs.caFile !== undefined) {
    tls.ca = readPem(inputs, '--ca-file', inputs.caFile, (text) => text.includes(CERTIFICATE));
  }
  const { certFile, keyFile } = inputs;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new Error('give --client-cert and --client-key together');
  }
  if (certFile !== undefined && keyFile !== undefined) {
    tls.clientCert = {
      cert: readPem(inputs, '--client-cert', certFile, (text) => text.includes(CERTIFICATE)),
      key: readPem(inputs, '--client-key', keyFile, (text) => PRIVATE_KEY.test(text)),
    };
  }
  return tls;
}

function readPem(
  inputs: TlsFileInputs,
  option: string,
  path: string,
  looksRight: (text: string) => boolean,
): string {
  let text: string;
  try {
    text = inputs.read(path);
  } catch {
    throw new Error(`${option}: cannot read ${path}`);
  }
  // Never quote the contents: a key file holds a secret.
  const what = option === '--client-key' ? 'a PEM private key' : 'a PEM certificate';
  if (!looksRight(text)) throw new Error(`${option}: ${path} does not hold ${what}`);
  return text;
}

/**
 * What a connection error means when it is a TLS problem, with the fix; undefined otherwise.
 * `hasCa` tells whether `--ca-file` was given, so the advice fits.
 */
export function describeTlsFailure(error: unknown, hasCa: boolean): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = error instanceof Error ? error.message : String(error);
  if (typeof code !== 'string') return undefined;
  const problem = tlsProblem(code);
  if (problem === 'untrusted') {
    return hasCa
      ? `the control plane's TLS certificate is not trusted (${reason}): it is not signed by the CA in --ca-file`
      : `the control plane's TLS certificate is not trusted (${reason}); pass --ca-file (or TM_CA_FILE) with the CA that signed it`;
  }
  if (problem === 'out_of_date') {
    return `the control plane's TLS certificate is not valid now (${reason}); renew it (a local stack remakes its own on start)`;
  }
  if (problem === 'wrong_host') {
    return `the control plane's TLS certificate does not name the host dialled (${reason}); use a host it covers in --control-plane`;
  }
  if (problem === 'not_tls') {
    return `the control plane does not speak TLS on that port (${reason}); use an http:// (ws://) URL`;
  }
  return undefined;
}
