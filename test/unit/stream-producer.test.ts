/**
 * stream-task.ts, router.ts and held-output.ts with real processes and sockets: the records of a
 * producer reach its downstream even when the process has exited before its router could connect
 * (Node drops the bytes of a child's stdout no one reads when the child exits), and a producer
 * none of whose downstreams answers fails, its process let go.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { freePort } from '../../cli/local/ports.ts';
import type { StreamPlan } from '../../protocol/index.ts';
import { DataServer } from '../../worker-agent/streams/data-server.ts';
import { StreamHub } from '../../worker-agent/streams/hub.ts';
import { Inbox } from '../../worker-agent/streams/inbox.ts';
import { joinStream } from '../../worker-agent/streams/stream-task.ts';

const SECRET = 'ab'.repeat(32);
const RECORDS = 1000;

const planTo = (taskId: string, port: number): StreamPlan => ({
  epoch: 1,
  secret: SECRET,
  inputs: 0,
  outputs: [{ stage: 'count', peers: [{ taskId, address: `127.0.0.1:${port}` }] }],
});

/** A stream task's process, its close awaited from the spawn on (it may come early). */
function producer(command: string) {
  const child: ChildProcess = spawn('/bin/sh', ['-c', command], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, exited, closed };
}

/** A downstream instance's stdin, kept: its bytes, and a promise of its end. */
function collector() {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const ended = new Promise<void>((resolve) => sink.once('finish', () => resolve()));
  return { sink, ended, text: () => Buffer.concat(chunks).toString('utf8') };
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');

describe('a stream producer', () => {
  it('delivers every record when it exits before its downstream takes connections', async () => {
    const port = await freePort();
    const consumer = randomUUID();
    const { child, exited, closed } = producer(`seq 1 ${RECORDS}`);
    const failures: string[] = [];
    const hub = new StreamHub('127.0.0.1', () => undefined);
    const io = joinStream(
      hub,
      planTo(consumer, port),
      { taskId: randomUUID(), attempt: 1, from: 'numbers/0' },
      child,
      (message) => failures.push(message),
    );
    // The downstream's data server starts only after the producer has exited and Node has had
    // its turns to flush the pipes it thinks no one reads; the router's connects are refused
    // until then.
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const received = collector();
    const server = new DataServer('127.0.0.1');
    await server.listen(port);
    server.register(consumer, new Inbox(1, SECRET, 1, received.sink, (m) => failures.push(m)));
    try {
      await closed;
      await io.finish();
      await received.ended;
      expect(failures).toEqual([]);
      expect(received.text()).toBe(sequence(RECORDS));
    } finally {
      io.close(true);
      await server.close();
    }
  });

  it('fails, and its process closes, when no downstream ever answers', async () => {
    const port = await freePort();
    const { child, closed } = producer(`seq 1 ${RECORDS}`);
    const failures: string[] = [];
    const hub = new StreamHub('127.0.0.1', () => undefined);
    const io = joinStream(
      hub,
      planTo(randomUUID(), port),
      { taskId: randomUUID(), attempt: 1, from: 'numbers/0' },
      child,
      (message) => failures.push(message),
    );
    // Its held stdout is let go once the router gives up, so the process's close comes.
    await closed;
    await io.finish();
    io.close(false);
    expect(failures).toEqual([expect.stringMatching(/^cannot reach a downstream instance: /)]);
  }, 20_000);

  it('closes the channels it opened when another downstream instance cannot be reached', async () => {
    const [open, shut] = [await freePort(), await freePort()];
    const closedChannels: number[] = [];
    const server = createServer((socket) => {
      socket.on('close', () => closedChannels.push(open));
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(open, '127.0.0.1', resolve));
    const { child, closed } = producer(`seq 1 ${RECORDS}`);
    const failures: string[] = [];
    const plan = planTo(randomUUID(), open);
    plan.outputs[0]!.peers.push({ taskId: randomUUID(), address: `127.0.0.1:${shut}` });
    const io = joinStream(
      new StreamHub('127.0.0.1', () => undefined),
      plan,
      { taskId: randomUUID(), attempt: 1, from: 'numbers/0' },
      child,
      (message) => failures.push(message),
    );
    try {
      await closed;
      await io.finish();
      expect(failures).toEqual([expect.stringMatching(/^cannot reach a downstream instance: /)]);
      await vi.waitFor(() => expect(closedChannels).toEqual([open]));
    } finally {
      io.close(false);
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);
});
