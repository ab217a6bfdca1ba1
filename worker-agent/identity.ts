/**
 * The agent's identity: an Ed25519 key pair kept in a key file (PKCS8 PEM, mode 0600) made on
 * first start, and the signature its `hello` carries. The private key never leaves this module.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { formatFingerprint, helloMessage } from '../protocol/index.ts';

export interface AgentIdentity {
  /** The raw 32-byte public key, base64url, as `hello` carries it. */
  readonly publicKey: string;
  /** `SHA256:…`, as the control plane shows the worker's key. */
  readonly fingerprint: string;
  /** Signs the hello that answers the challenge `nonce` for `address`; base64url. */
  signHello(nonce: string, address: string): string;
}

export interface LoadedIdentity {
  identity: AgentIdentity;
  /** True when this call made the key file. */
  created: boolean;
}

/** Loads the key in `file`, or makes one there when the file does not exist; throws a clear Error. */
export function loadIdentity(file: string): LoadedIdentity {
  const existing = readKeyFile(file);
  if (existing) return { identity: identityOf(existing), created: false };
  const made = createKeyFile(file);
  return { identity: identityOf(made.key), created: made.created };
}

function identityOf(privateKey: KeyObject): AgentIdentity {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('the agent key has no public part');
  const publicKey = jwk.x;
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest();
  return {
    publicKey,
    fingerprint: formatFingerprint(digest),
    signHello: (nonce, address) =>
      sign(null, Buffer.from(helloMessage(nonce, address)), privateKey).toString('base64url'),
  };
}

/** The key in `file`; null when there is no such file. */
function readKeyFile(file: string): KeyObject | null {
  let pem: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the agent key file ${file}: ${reason(error)}`);
  }
  // As ssh does: a private key others can read may already be someone else's.
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(
      `the agent key file ${file} is open to other users (mode ${octal}); run chmod 600 on it`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(`the agent key file ${file} does not hold a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `the agent key file ${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`,
    );
  return key;
}

/**
 * Writes a new key to a private temp file, then links it into place: a crash never leaves half a
 * key behind, and of two agents starting at once the second uses the first one's key.
 */
function createKeyFile(file: string): { key: KeyObject; created: boolean } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    removeQuietly(temp); // left by a crash of an earlier process with this pid
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, file);
    return { key: privateKey, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = readKeyFile(file);
      if (raced) return { key: raced, created: false };
    }
    throw new Error(`cannot create the agent key file ${file}: ${reason(error)}`);
  } finally {
    removeQuietly(temp);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Never made, or already gone.
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
