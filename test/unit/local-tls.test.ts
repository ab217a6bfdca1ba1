/** The local stack's CA and server certificate: made once, kept, remade when they no longer fit. */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { covers, ensureLocalTls } from '../../cli/local/tls.ts';

let stateDir: string;

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'tm-tls-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const certificate = (file: string) => new X509Certificate(readFileSync(file));
const mode = (file: string) => statSync(file).mode & 0o777;
const DAY_MS = 86_400_000;

describe('ensureLocalTls', () => {
  it('makes a CA and a server certificate it signed, for localhost, 127.0.0.1 and ::1', () => {
    const tls = ensureLocalTls(stateDir);
    expect(tls).toEqual({
      caFile: join(stateDir, 'tls', 'ca.pem'),
      certFile: join(stateDir, 'tls', 'server.pem'),
      keyFile: join(stateDir, 'tls', 'server-key.pem'),
      created: true,
    });
    const ca = certificate(tls.caFile);
    const server = certificate(tls.certFile);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    for (const host of ['localhost', '127.0.0.1', '::1', '[::1]'])
      expect(covers(server, host)).toBe(true);
    expect(covers(server, 'example.com')).toBe(false);
    expect(covers(server, '10.0.0.1')).toBe(false);
  });

  it('keeps the keys readable by their owner only and leaves no config files behind', () => {
    const tls = ensureLocalTls(stateDir);
    expect(mode(tls.keyFile)).toBe(0o600);
    expect(mode(join(stateDir, 'tls', 'ca-key.pem'))).toBe(0o600);
    expect(mode(join(stateDir, 'tls'))).toBe(0o700);
    // A private key in PKCS8 PEM: it parses, and re-exports to the same text.
    const pem = readFileSync(tls.keyFile, 'utf8');
    expect(createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' })).toBe(pem);
    expect(readdirSync(join(stateDir, 'tls')).sort()).toEqual([
      'ca-key.pem',
      'ca.pem',
      'server-key.pem',
      'server.pem',
    ]);
  });

  it('reuses what it made', () => {
    const first = ensureLocalTls(stateDir);
    const before = [first.caFile, first.certFile, first.keyFile].map((f) =>
      readFileSync(f, 'utf8'),
    );
    const second = ensureLocalTls(stateDir);
    expect(second.created).toBe(false);
    expect(
      [second.caFile, second.certFile, second.keyFile].map((f) => readFileSync(f, 'utf8')),
    ).toEqual(before);
  });

  it('remakes the server certificate, with the same CA, for a host it does not cover', () => {
    const first = ensureLocalTls(stateDir);
    const caBefore = readFileSync(first.caFile, 'utf8');
    const second = ensureLocalTls(stateDir, { hosts: ['10.200.0.1', 'tm.internal'] });
    expect(second.created).toBe(true);
    expect(readFileSync(second.caFile, 'utf8')).toBe(caBefore);
    const server = certificate(second.certFile);
    for (const host of ['10.200.0.1', 'tm.internal', 'localhost', '127.0.0.1'])
      expect(covers(server, host)).toBe(true);
    expect(ensureLocalTls(stateDir, { hosts: ['tm.internal'] }).created).toBe(false);
  });

  it('remakes a server certificate near its expiry, and everything when the CA is', () => {
    const first = ensureLocalTls(stateDir);
    const caBefore = readFileSync(first.caFile, 'utf8');
    const server = certificate(first.certFile);
    const nearExpiry = new Date(new Date(server.validTo).getTime() - 10 * DAY_MS);
    const renewed = ensureLocalTls(stateDir, { now: nearExpiry });
    expect(renewed.created).toBe(true);
    expect(readFileSync(renewed.caFile, 'utf8')).toBe(caBefore);

    const ca = certificate(first.caFile);
    const caNearExpiry = new Date(new Date(ca.validTo).getTime() - 10 * DAY_MS);
    // Made "now", the new certificates would not yet be valid at that future date either way:
    // what matters is that the old CA is replaced.
    ensureLocalTls(stateDir, { now: caNearExpiry });
    expect(readFileSync(first.caFile, 'utf8')).not.toBe(caBefore);
  });

  it('remakes a server certificate another CA signed, or whose key is gone', () => {
    const tls = ensureLocalTls(stateDir);
    const other = mkdtempSync(join(tmpdir(), 'tm-tls-other-'));
    try {
      const foreign = ensureLocalTls(other);
      writeFileSync(tls.certFile, readFileSync(foreign.certFile));
      writeFileSync(tls.keyFile, readFileSync(foreign.keyFile));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect(ensureLocalTls(stateDir).created).toBe(true);
    expect(certificate(tls.certFile).checkIssued(certificate(tls.caFile))).toBe(true);
    rmSync(tls.keyFile);
    expect(ensureLocalTls(stateDir).created).toBe(true);
    expect(mode(tls.keyFile)).toBe(0o600);
  });

  it('says when openssl is missing', () => {
    expect(() => ensureLocalTls(stateDir, { openssl: 'openssl-that-is-not-there' })).toThrow(
      /needs the openssl command/,
    );
  });
});
