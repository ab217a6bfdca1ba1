/**
 * Test hosts in network namespaces (iproute2): a namespace joined to the root one by a veth pair
 * on a private /30, so a process inside has its own network whose link a test can cut.
 */
import { spawnSync } from 'node:child_process';
import { processAlive } from './wait.ts';

export type NetnsSupport = { available: true } | { available: false; reason: string };

export interface TestHost {
  /** The namespace's name. */
  name: string;
  /** The root namespace's end of the link: where a control plane for this host listens. */
  gateway: string;
  /** The host's own address, inside the namespace. */
  address: string;
  /** Runs a command inside the namespace: prepend to its argv. */
  prefix: string[];
  /** Takes the host's end of the link down: nothing passes either way. */
  cut(): void;
  restore(): void;
  /** Removes the link and the namespace; safe to call twice or after a failed setup. */
  destroy(): void;
}

/** Test hosts are named after the test process, so leftovers of a dead run can be told apart. */
const NAME_PREFIX = 'tm-e2e-';
const SUBNET = '10.231';
let created = 0;

/** Whether namespaces work here, found once at load so a test's title can say so. */
export const netnsSupport: NetnsSupport = probe();

export function createTestHost(): TestHost {
  sweepDeadRuns();
  const index = created++;
  const name = `${NAME_PREFIX}${process.pid}-${index}`;
  // Interface names hold at most 15 characters: 2 + 7 (largest pid) + 1 + index.
  const outside = `tm${process.pid}h${index}`;
  const inside = `tm${process.pid}n${index}`;
  const block = freeBlock();
  const gateway = `${SUBNET}.${block}.1`;
  const address = `${SUBNET}.${block}.2`;
  const destroy = () => {
    ipQuiet(['link', 'del', outside]);
    ipQuiet(['netns', 'del', name]);
  };
  try {
    ip(['netns', 'add', name]);
    ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', name]);
    ip(['addr', 'add', `${gateway}/30`, 'dev', outside]);
    ip(['link', 'set', outside, 'up']);
    ip(['-n', name, 'addr', 'add', `${address}/30`, 'dev', inside]);
    ip(['-n', name, 'link', 'set', inside, 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    name,
    gateway,
    address,
    prefix: ['ip', 'netns', 'exec', name],
    cut: () => ip(['-n', name, 'link', 'set', inside, 'down']),
    restore: () => ip(['-n', name, 'link', 'set', inside, 'up']),
    destroy,
  };
}

/** Runs `ip`; throws with its stderr when it fails. */
function ip(args: string[]): string {
  const run = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'ip (iproute2) is not installed' : `ip: ${run.error.message}`);
  }
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr.trim()}`);
  return run.stdout;
}

/** Cleanup: whatever is already gone stays gone. */
function ipQuiet(args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore', timeout: 10_000 });
}

/** Creates a throwaway namespace with a veth pair in it and runs a command there. */
function probe(): NetnsSupport {
  if (process.env.TM_TEST_NO_NETNS)
    return { available: false, reason: 'disabled by TM_TEST_NO_NETNS' };
  const name = `${NAME_PREFIX}${process.pid}-probe`;
  try {
    ip(['netns', 'add', name]);
    ip(['-n', name, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    ip(['netns', 'exec', name, 'true']);
    return { available: true };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    ipQuiet(['netns', 'del', name]);
  }
}

/** The third octet of a 10.231.N.0/30 no interface here uses yet, starting from our pid. */
function freeBlock(): number {
  const used = ip(['-4', '-o', 'addr', 'show']);
  for (let step = 0; step < 256; step++) {
    const block = (process.pid + step) % 256;
    if (!used.includes(` ${SUBNET}.${block}.`)) return block;
  }
  throw new Error(`no free /30 left in ${SUBNET}.0.0/16`);
}

/** Removes namespaces and links that test runs which died without cleaning up left behind. */
function sweepDeadRuns(): void {
  const owner = (name: string) => Number(/^(?:tm-e2e-|tm)(\d+)[-hn]/.exec(name)?.[1] ?? 0);
  const dead = (name: string) => owner(name) > 0 && !processAlive(owner(name));
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(NAME_PREFIX) && dead(name)) ipQuiet(['netns', 'del', name]);
  }
  for (const line of ip(['-o', 'link', 'show', 'type', 'veth']).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
    if (/^tm\d+h\d+$/.test(name) && dead(name)) ipQuiet(['link', 'del', name]);
  }
}
