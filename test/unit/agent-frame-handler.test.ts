/**
 * The agent's frame handler in-process, against a `ws` server: whatever a frame holds or its
 * handling throws, the agent logs it, fails the tasks of that frame, and keeps its socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { PROTOCOL_VERSION, type TaskRef } from '../../protocol/index.ts';
import { Connection } from '../../worker-agent/connection.ts';
import { createLogger } from '../../worker-agent/logger.ts';
import { Outbox } from '../../worker-agent/outbox.ts';
import { assignment, eventually } from './agent-helpers.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A welcomed Connection whose `onFrame` is `onFrame`, and the server side of its socket. */
async function connected(onFrame: () => void) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const sockets: WebSocket[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.send(
      JSON.stringify({ type: 'challenge', nonce: randomBytes(32).toString('base64url') }),
    );
    socket.once('message', () =>
      socket.send(
        JSON.stringify({
          type: 'welcome',
          workerId: randomUUID(),
          protocolVersion: PROTOCOL_VERSION,
          heartbeatIntervalMs: 60_000,
        }),
      ),
    );
  });
  const lines: string[] = [];
  const refused: { tasks: TaskRef[]; reason: string }[] = [];
  const connection = new Connection({
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/agent/connect`,
    token: 'token',
    logger: createLogger({ write: (line) => lines.push(line) }),
    outbox: new Outbox(() => undefined),
    identity: {
      publicKey: 'k'.repeat(43),
      signHello: () => 's'.repeat(86),
      fingerprint: 'SHA256:x',
    },
    hello: () => ({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      address: 'localhost:1',
      slots: 1,
      acceptsCommands: false,
      running: [],
    }),
    onFrame,
    onRefusedTasks: (tasks, reason) => refused.push({ tasks, reason }),
    onRefused: () => undefined,
  });
  connection.start();
  closers.push(async () => {
    await connection.close('test over');
    await new Promise((resolve) => server.close(resolve));
  });
  await eventually(() => connection.connected || undefined, 'the welcome');
  const socket = sockets[0];
  if (!socket) throw new Error('no socket');
  return { connection, socket, lines, refused };
}

describe("the agent's frame handler", () => {
  it('logs a frame whose handling throws, fails its tasks, and keeps the socket', async () => {
    const { connection, socket, lines, refused } = await connected(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    const task = assignment({ kind: 'echo', payload: 'x' });
    socket.send(JSON.stringify({ type: 'assign', tasks: [task] }));
    await eventually(() => refused[0], 'the refusal');
    expect(refused[0]?.tasks).toEqual([{ taskId: task.taskId, attempt: 1 }]);
    expect(refused[0]?.reason).toContain('Maximum call stack size exceeded');
    expect(lines.join('')).toContain('failed to handle a frame from the control plane');
    // The next frame is handled the same way: the socket is still there.
    socket.send(JSON.stringify({ type: 'drain' }));
    await eventually(
      () => lines.filter((l) => l.includes('failed to handle')).length === 2 || undefined,
      'the second frame',
    );
    expect(connection.connected).toBe(true);
  });

  it('fails the tasks of a frame nested too deep without walking it', async () => {
    let handled = 0;
    const { connection, socket, refused } = await connected(() => handled++);
    const task = assignment({ kind: 'echo' });
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    socket.send(
      JSON.stringify({
        type: 'assign',
        tasks: [{ ...task, spec: { kind: 'echo', payload: 0 } }],
      }).replace('"payload":0', `"payload":${deep}`),
    );
    await eventually(() => refused[0], 'the refusal');
    expect(refused[0]?.reason).toMatch(/frame_too_deep/);
    expect(handled).toBe(0);
    expect(connection.connected).toBe(true);
  });
});
