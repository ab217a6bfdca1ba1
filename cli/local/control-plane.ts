/** Runs the control plane locally: real `wrangler dev` (workerd) with state persisted to a folder. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, type Child } from './child.ts';
import { freePort, waitForHttp } from './ports.ts';
import { repoRoot, wranglerBin } from './repo.ts';
import type { LocalTls } from './tls.ts';
import { fetchTrusting } from '../sdk/tls-fetch.ts';

export interface ControlPlaneOptions {
  /** Holds persisted Durable Object state, the secrets file and logs. */
  stateDir: string;
  port: number;
  /** Address to listen on (default 127.0.0.1); also the host of the returned URL. */
  host?: string;
  joinToken: string;
  adminToken: string;
  /** Extra settings for the Worker (TM_LEASE_MS, TM_LOG_LIMIT_BYTES, ...). */
  vars?: Record<string, string>;
  startTimeoutMs?: number;
  /** Serve https (and wss) with this certificate; the URL is then `https://…` (default: http). */
  tls?: Pick<LocalTls, 'caFile' | 'certFile' | 'keyFile'>;
  /**
   * A named environment of wrangler.toml (`production`) instead of the top level. Its vars stay
   * as the file has them, and of the secrets only those it lists as required are passed.
   */
  environment?: string;
}

export interface ControlPlane {
  url: string;
  /** A fetch that trusts the local CA when the control plane serves https, else the global one. */
  fetch: typeof fetch;
  child: Child;
  stop(): Promise<void>;
}

/** Keeps the machine off the internet, whatever wrangler would otherwise do. */
export const OFFLINE_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
} as const;

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const logs = join(options.stateDir, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  // Secrets go through an env file, which wrangler shows as "(hidden)", never on the command line.
  const secrets = join(options.stateDir, 'worker.env');
  const vars = {
    TM_JOIN_TOKEN: options.joinToken,
    TM_ADMIN_TOKEN: options.adminToken,
    // wrangler dev passes a client's CF-Connecting-IP through: not an address to count by.
    TM_BEHIND_CLOUDFLARE: 'false',
    ...options.vars,
  };
  writeFileSync(
    secrets,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  const host = options.host ?? '127.0.0.1';
  const args = [
    wranglerBin,
    'dev',
    '--config',
    join(repoRoot, 'wrangler.toml'),
    '--ip',
    host,
    '--port',
    String(options.port),
    '--inspector-port',
    String(await freePort()),
    '--persist-to',
    join(options.stateDir, 'state'),
    '--env-file',
    secrets,
    '--show-interactive-dev-session=false',
    ...(options.environment ? ['--env', options.environment] : []),
    '--log-level',
    'warn',
    ...(options.tls
      ? [
          '--local-protocol',
          'https',
          '--https-key-path',
          options.tls.keyFile,
          '--https-cert-path',
          options.tls.certFile,
        ]
      : []),
  ];
  const child = startChild(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...OFFLINE_ENV, WRANGLER_LOG_PATH: logs, NO_COLOR: '1' },
    logFile: join(logs, 'control-plane.log'),
  });
  const url = `${options.tls ? 'https' : 'http'}://${urlHost(host)}:${options.port}`;
  const fetchImpl = options.tls ? fetchTrusting(readFileSync(options.tls.caFile)) : fetch;
  try {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    await waitForHttp(`${url}/v1/health`, timeoutMs, child.alive, fetchImpl);
  } catch (error) {
    await child.stop(1000);
    throw new Error(
      `control plane did not start (see ${join(logs, 'control-plane.log')}): ${(error as Error).message}`,
    );
  }
  return { url, fetch: fetchImpl, child, stop: () => child.stop(5000) };
}

/** An IPv6 address goes in brackets in a URL. */
function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
