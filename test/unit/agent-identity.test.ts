/** The agent's key file and hello signatures: made once with mode 0600, reused, verifiable. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify,
  webcrypto,
} from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helloMessage } from '../../protocol/index.ts';
import { loadIdentity } from '../../worker-agent/identity.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-agent-identity-'));
  dirs.push(dir);
  return dir;
}

/** The public key as node:crypto sees it, from the raw base64url form hello carries. */
const publicKeyOf = (raw: string) =>
  createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });

const NONCE = 'n'.repeat(43);

function errorOf(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('loadIdentity', () => {
  it('makes a PKCS8 PEM key file with mode 0600 in a new 0700 directory', () => {
    const dir = join(tempDir(), 'state', 'tm-agent', 'localhost_50051');
    const file = join(dir, 'agent-key.pem');
    const { identity, created } = loadIdentity(file);
    expect(created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const pem = readFileSync(file, 'utf8');
    // The file is exactly an Ed25519 key in PKCS8 PEM: it parses, and re-exports to itself.
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe('ed25519');
    expect(key.export({ type: 'pkcs8', format: 'pem' })).toBe(pem);
    expect(identity.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(identity.publicKey, 'base64url')).toHaveLength(32);
    // No temp file is left beside it.
    expect(readFileSync(file, 'utf8')).toBe(pem);
    expect(() => statSync(`${file}.${process.pid}.tmp`)).toThrow(/ENOENT/);
  });

  it('reuses the key file: same key, same fingerprint, file unchanged', () => {
    const file = join(tempDir(), 'agent-key.pem');
    const first = loadIdentity(file);
    const pem = readFileSync(file, 'utf8');
    const second = loadIdentity(file);
    expect(second.created).toBe(false);
    expect(second.identity.publicKey).toBe(first.identity.publicKey);
    expect(second.identity.fingerprint).toBe(first.identity.fingerprint);
    expect(readFileSync(file, 'utf8')).toBe(pem);
    expect(loadIdentity(join(tempDir(), 'other.pem')).identity.publicKey).not.toBe(
      first.identity.publicKey,
    );
  });

  it('signs hellos that verify for their nonce and address only', async () => {
    const { identity } = loadIdentity(join(tempDir(), 'agent-key.pem'));
    const signature = identity.signHello(NONCE, 'localhost:50051');
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const key = publicKeyOf(identity.publicKey);
    const verifies = (nonce: string, address: string) =>
      verify(
        null,
        Buffer.from(helloMessage(nonce, address)),
        key,
        Buffer.from(signature, 'base64url'),
      );
    expect(verifies(NONCE, 'localhost:50051')).toBe(true);
    expect(verifies('m'.repeat(43), 'localhost:50051')).toBe(false);
    expect(verifies(NONCE, 'localhost:50052')).toBe(false);

    // WebCrypto, as the Scheduler verifies it, agrees.
    const imported = await webcrypto.subtle.importKey(
      'raw',
      Buffer.from(identity.publicKey, 'base64url'),
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    expect(
      await webcrypto.subtle.verify(
        { name: 'Ed25519' },
        imported,
        Buffer.from(signature, 'base64url'),
        Buffer.from(helloMessage(NONCE, 'localhost:50051')),
      ),
    ).toBe(true);
  });

  it('fingerprints the key as SHA256: and the unpadded base64 of its digest', () => {
    const { identity } = loadIdentity(join(tempDir(), 'agent-key.pem'));
    const digest = createHash('sha256').update(Buffer.from(identity.publicKey, 'base64url'));
    expect(identity.fingerprint).toBe(`SHA256:${digest.digest('base64').replace(/=+$/, '')}`);
  });

  it('refuses a key file other users can read, as ssh does', () => {
    const file = join(tempDir(), 'agent-key.pem');
    loadIdentity(file);
    chmodSync(file, 0o644);
    expect(errorOf(() => loadIdentity(file))).toBe(
      `the agent key file ${file} is open to other users (mode 0644); run chmod 600 on it`,
    );
  });

  it('refuses files that hold no Ed25519 private key, without quoting them', () => {
    const dir = tempDir();
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key at all', { mode: 0o600 });
    expect(errorOf(() => loadIdentity(garbage))).toBe(
      `the agent key file ${garbage} does not hold a PEM private key`,
    );
    const ec = join(dir, 'ec.pem');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeFileSync(ec, pem, { mode: 0o600 });
    const message = errorOf(() => loadIdentity(ec));
    expect(message).toBe(`the agent key file ${ec} holds a ec key, not Ed25519`);
    expect(message).not.toContain('PRIVATE KEY');
  });

  it('replaces a temp file a crashed process with the same pid left behind', () => {
    const file = join(tempDir(), 'agent-key.pem');
    writeFileSync(`${file}.${process.pid}.tmp`, 'half a key');
    const { created } = loadIdentity(file);
    expect(created).toBe(true);
    expect(createPrivateKey(readFileSync(file, 'utf8')).asymmetricKeyType).toBe('ed25519');
  });

  it('says which key file it cannot use, and why', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const file = join(dir, 'not-a-dir', 'agent-key.pem');
    expect(errorOf(() => loadIdentity(file))).toMatch(
      new RegExp(`^cannot read the agent key file ${file}: .*ENOTDIR`),
    );
    if (process.getuid?.() === 0) return; // root writes anywhere
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    const inLocked = join(locked, 'agent-key.pem');
    expect(errorOf(() => loadIdentity(inLocked))).toMatch(
      new RegExp(`^cannot create the agent key file ${inLocked}: .*EACCES`),
    );
  });
});
