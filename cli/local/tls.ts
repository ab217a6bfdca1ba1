/**
 * The local stack's TLS: a CA of its own and a server certificate it signs, made once under
 * `<stateDir>/tls/` and kept; made again when missing, near expiry, or not covering a host.
 * The keys are generated with node:crypto; the `openssl` command signs the certificates.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface LocalTls {
  /** The CA certificate clients and agents trust (`--ca-file`). */
  caFile: string;
  /** The server certificate (for `wrangler dev --https-cert-path`) and its key. */
  certFile: string;
  keyFile: string;
  /** True when this call made (or remade) the server certificate. */
  created: boolean;
}

export interface LocalTlsOptions {
  /** Names and addresses the server certificate must cover, besides localhost, 127.0.0.1 and ::1. */
  hosts?: readonly string[];
  /** The clock (default: now); certificates expiring within `renewWithinDays` of it are remade. */
  now?: Date;
  renewWithinDays?: number;
  /** The openssl program (default `openssl` on the PATH). */
  openssl?: string;
}

export const DEFAULT_TLS_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
const CA_DAYS = 3650;
/** Under the 398 days browsers accept for a server certificate. */
const SERVER_DAYS = 397;
const RENEW_WITHIN_DAYS = 30;
const DAY_MS = 86_400_000;

/** Makes (or reuses) the CA and the server certificate under `<stateDir>/tls/`. */
export function ensureLocalTls(stateDir: string, options: LocalTlsOptions = {}): LocalTls {
  const dir = join(stateDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: TlsFiles = {
    dir,
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
  };
  const hosts = [...new Set([...DEFAULT_TLS_HOSTS, ...(options.hosts ?? [])])];
  const now = options.now ?? new Date();
  const renewBy = new Date(now.getTime() + (options.renewWithinDays ?? RENEW_WITHIN_DAYS) * DAY_MS);
  const openssl = options.openssl ?? 'openssl';

  const oldCa = readCertificate(files.caFile);
  const caUsable =
    oldCa !== null && oldCa.ca && fresh(oldCa, now, renewBy) && keyMatches(oldCa, files.caKeyFile);
  const ca = caUsable ? oldCa : makeCa(files, openssl);

  const server = readCertificate(files.certFile);
  const serverUsable =
    caUsable &&
    server !== null &&
    fresh(server, now, renewBy) &&
    server.checkIssued(ca) &&
    server.verify(ca.publicKey) &&
    keyMatches(server, files.keyFile) &&
    hosts.every((host) => covers(server, host));
  if (!serverUsable) makeServerCertificate(files, hosts, openssl);
  return {
    caFile: files.caFile,
    certFile: files.certFile,
    keyFile: files.keyFile,
    created: !serverUsable,
  };
}

interface TlsFiles {
  dir: string;
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
}

/** A new CA key and self-signed CA certificate. */
function makeCa(files: TlsFiles, openssl: string): X509Certificate {
  writeKey(files.caKeyFile);
  runOpenssl(openssl, files.dir, caConfig(), [
    'req',
    '-x509',
    '-new',
    '-key',
    files.caKeyFile,
    '-subj',
    '/CN=TM Scheduler local CA',
    '-days',
    String(CA_DAYS),
    '-sha256',
    '-extensions',
    'v3_ca',
    '-out',
    files.caFile,
  ]);
  const ca = readCertificate(files.caFile);
  if (ca === null) throw new Error(`openssl wrote no readable CA certificate to ${files.caFile}`);
  return ca;
}

/** A new server key, and a certificate for `hosts` that the CA signs. */
function makeServerCertificate(files: TlsFiles, hosts: readonly string[], openssl: string): void {
  writeKey(files.keyFile);
  const config = serverConfig(hosts);
  const csr = runOpenssl(openssl, files.dir, config, [
    'req',
    '-new',
    '-key',
    files.keyFile,
    '-subj',
    '/CN=localhost',
  ]);
  // A random positive 128-bit serial: the top bit clear.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const args = ['x509', '-req', '-CA', files.caFile, '-CAkey', files.caKeyFile];
  runOpenssl(
    openssl,
    files.dir,
    config,
    [
      ...args,
      '-set_serial',
      `0x${serial.toString('hex')}`,
      '-days',
      String(SERVER_DAYS),
      '-sha256',
      '-extensions',
      'v3_server',
      '-out',
      files.certFile,
    ],
    csr,
  );
}

/** True when the certificate names `host` (a DNS name or an IP address) in its SAN. */
export function covers(certificate: X509Certificate, host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare)
    ? certificate.checkIP(bare) !== undefined
    : certificate.checkHost(bare, { subject: 'never' }) !== undefined;
}

function readCertificate(file: string): X509Certificate | null {
  if (!existsSync(file)) return null;
  try {
    return new X509Certificate(readFileSync(file));
  } catch {
    return null;
  }
}

function fresh(certificate: X509Certificate, now: Date, renewBy: Date): boolean {
  return (
    new Date(certificate.validFrom).getTime() <= now.getTime() &&
    new Date(certificate.validTo).getTime() > renewBy.getTime()
  );
}

function keyMatches(certificate: X509Certificate, keyFile: string): boolean {
  try {
    return certificate.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch {
    return false;
  }
}

/** A new P-256 key in PKCS#8 PEM, readable by its owner only. */
function writeKey(file: string): void {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  rmSync(file, { force: true });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Runs openssl with a config file written for this call; returns its stdout. */
function runOpenssl(
  openssl: string,
  dir: string,
  config: string,
  args: string[],
  input?: string,
): string {
  const configFile = join(dir, `openssl-${process.pid}-${randomBytes(4).toString('hex')}.cnf`);
  writeFileSync(configFile, config, { mode: 0o600 });
  const withConfig =
    args[0] === 'x509' ? [...args, '-extfile', configFile] : [...args, '-config', configFile];
  try {
    return execFileSync(openssl, withConfig, {
      cwd: dir,
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OPENSSL_CONF: configFile },
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT')
      throw new Error(
        `TLS needs the openssl command, which is not installed (Debian: apt-get install openssl)`,
      );
    throw new Error(`openssl ${args[0]} failed: ${(failure.stderr ?? failure.message).trim()}`);
  } finally {
    rmSync(configFile, { force: true });
  }
}

const REQ_SECTION = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = TM Scheduler
`;

function caConfig(): string {
  return `${REQ_SECTION}[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;
}

function serverConfig(hosts: readonly string[]): string {
  const names = hosts.map((host) => {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    return isIP(bare) ? `IP:${bare}` : `DNS:${bare}`;
  });
  return `${REQ_SECTION}[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${names.join(', ')}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
`;
}
