/**
 * Refusing to start on a taken port, naming who holds it: the listening socket's inode from
 * /proc/net/tcp and tcp6, then the process with that socket among /proc/PID/fd. Without /proc,
 * or for another user's process (whose fds we cannot read), it says only that the port is taken.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

export interface PortHolder {
  pid: number;
  /** Its command line, arguments joined by spaces (cut at 200 characters). */
  command: string;
}

const LISTEN = '0A';

/** The inodes of the sockets listening on `port` in a /proc/net/tcp or tcp6 table. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (!local || fields[3] !== LISTEN) continue;
    const hexPort = local.slice(local.lastIndexOf(':') + 1);
    if (parseInt(hexPort, 16) === port && fields[9] && fields[9] !== '0') inodes.push(fields[9]);
  }
  return inodes;
}

/** The processes that hold a socket listening on `port` (empty when none can be seen). */
export function portHolders(port: number, proc = '/proc'): PortHolder[] {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    try {
      for (const inode of listeningInodes(readFileSync(`${proc}/net/${table}`, 'utf8'), port))
        inodes.add(`socket:[${inode}]`);
    } catch {
      // No such table (no IPv6, or no /proc).
    }
  }
  if (inodes.size === 0) return [];
  const holders: PortHolder[] = [];
  for (const name of safeList(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const fds = safeList(`${proc}/${name}/fd`);
    if (fds.some((fd) => inodes.has(safeLink(`${proc}/${name}/fd/${fd}`)))) {
      holders.push({ pid: Number(name), command: commandLine(`${proc}/${name}/cmdline`) });
    }
  }
  return holders;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function commandLine(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').split('\0').filter(Boolean).join(' ');
    return text.length > 200 ? `${text.slice(0, 200)}…` : text || '?';
  } catch {
    return '?';
  }
}

/** True when nothing else listens on `port` at `host`: this process could bind it. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** What `tm up` says about a taken port. */
export function describeTaken(port: number, what: string, holders: readonly PortHolder[]): string {
  if (holders.length === 0) return `port ${port} (${what}) is taken by another process`;
  const who = holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ');
  return `port ${port} (${what}) is taken by ${who}`;
}

/** Throws, naming each taken port and its holders, unless every port is free. */
export async function refuseTakenPorts(ports: ReadonlyArray<{ port: number; what: string }>) {
  const taken: string[] = [];
  for (const { port, what } of ports)
    if (!(await portFree(port))) taken.push(describeTaken(port, what, portHolders(port)));
  if (taken.length > 0)
    throw new Error(
      `not starting: ${taken.join('; ')}. Stop it (a stack left running? \`kill PID\`), or free the port.`,
    );
}
