/** Frame parsing: binary, size, JSON, schema; never throws. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentFrame,
  MAX_FRAME_BYTES,
  MAX_FRAME_JSON_DEPTH,
  MAX_JSON_DEPTH,
  PROTOCOL_VERSION,
  ServerFrame,
  claimedHelloVersion,
  parseFrame,
  refusedAssignments,
} from '../../protocol/index.ts';

const TASK = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const hello = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  address: 'localhost:50051',
  slots: 4,
  acceptsCommands: true,
  running: [{ taskId: TASK, attempt: 2 }],
  publicKey: 'k'.repeat(43),
  signature: 's'.repeat(86),
};

describe('parseFrame', () => {
  it('accepts a valid hello', () => {
    expect(parseFrame(JSON.stringify(hello), AgentFrame)).toEqual({ ok: true, frame: hello });
  });

  it('accepts a valid server frame', () => {
    const frame = {
      type: 'cancel',
      tasks: [{ taskId: TASK, attempt: 1 }],
      reason: 'job cancelled',
    };
    expect(parseFrame(JSON.stringify(frame), ServerFrame)).toEqual({ ok: true, frame });
  });

  it('rejects binary frames', () => {
    const raw = new TextEncoder().encode(JSON.stringify(hello)).buffer as ArrayBuffer;
    expect(parseFrame(raw, AgentFrame)).toMatchObject({ ok: false, code: 'binary_frame' });
  });

  it('rejects frames over the size limit before parsing them', () => {
    const big = JSON.stringify({ type: 'bye', reason: 'x'.repeat(MAX_FRAME_BYTES) });
    expect(parseFrame(big, AgentFrame)).toMatchObject({ ok: false, code: 'frame_too_large' });
    expect(parseFrame('x'.repeat(MAX_FRAME_BYTES + 1), z.unknown())).toMatchObject({
      ok: false,
      code: 'frame_too_large',
    });
  });

  // BUG: the limit counts UTF-16 code units (raw.length), not bytes: a frame of multi-byte
  // characters up to 3 MiB of UTF-8 passes a check whose message says "exceeds 1048576 bytes".
  it('measures the size limit in bytes, not characters', () => {
    const raw = JSON.stringify('é'.repeat(MAX_FRAME_BYTES / 2 + 8));
    expect(new TextEncoder().encode(raw).length).toBeGreaterThan(MAX_FRAME_BYTES);
    expect(parseFrame(raw, z.string())).toMatchObject({ ok: false, code: 'frame_too_large' });
  });

  it('reports malformed JSON', () => {
    for (const raw of ['{', 'not json', '', '{"type":"hello",}']) {
      expect(parseFrame(raw, AgentFrame)).toEqual({
        ok: false,
        code: 'malformed_frame',
        message: 'frame is not valid JSON',
      });
    }
  });

  it('reports schema errors with the path of the offending field', () => {
    const badSlots = parseFrame(JSON.stringify({ ...hello, slots: 'many' }), AgentFrame);
    expect(badSlots).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(!badSlots.ok && badSlots.message).toMatch(/ at slots$/);

    const badAttempt = parseFrame(
      JSON.stringify({ type: 'complete', tasks: [{ taskId: TASK, attempt: 0 }] }),
      AgentFrame,
    );
    expect(!badAttempt.ok && badAttempt.message).toMatch(/ at tasks\.0\.attempt$/);

    const unknownType = parseFrame(JSON.stringify({ type: 'launch' }), AgentFrame);
    expect(unknownType).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(!unknownType.ok && unknownType.message).toMatch(/ at type$/);
  });

  it('rejects unknown fields and non-object JSON', () => {
    expect(parseFrame(JSON.stringify({ type: 'heartbeat', extra: 1 }), AgentFrame)).toMatchObject({
      ok: false,
      code: 'invalid_frame',
    });
    expect(parseFrame('null', AgentFrame)).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(parseFrame('[1,2]', AgentFrame)).toMatchObject({ ok: false, code: 'invalid_frame' });
  });

  it('checks the shape of keys, signatures and challenge nonces', () => {
    for (const publicKey of ['k'.repeat(42), 'k'.repeat(44), `${'k'.repeat(42)}=`, '+'.repeat(43)])
      expect(parseFrame(JSON.stringify({ ...hello, publicKey }), AgentFrame)).toMatchObject({
        ok: false,
        code: 'invalid_frame',
      });
    const { publicKey: _, ...unkeyed } = hello;
    expect(parseFrame(JSON.stringify(unkeyed), AgentFrame)).toMatchObject({ ok: false });
    const challenge = { type: 'challenge', nonce: 'n'.repeat(43) };
    expect(parseFrame(JSON.stringify(challenge), ServerFrame)).toEqual({
      ok: true,
      frame: challenge,
    });
    expect(parseFrame(JSON.stringify({ ...challenge, nonce: 'short' }), ServerFrame)).toMatchObject(
      { ok: false },
    );
  });

  it("reads the version an unparsable hello claims, so an old agent hears it's old", () => {
    const old = { type: 'hello', protocolVersion: 1, address: 'h:1', slots: 1, running: [] };
    expect(parseFrame(JSON.stringify(old), AgentFrame).ok).toBe(false);
    expect(claimedHelloVersion(JSON.stringify(old))).toBe(1);
    expect(claimedHelloVersion(JSON.stringify({ ...old, protocolVersion: '1' }))).toBeNull();
    expect(claimedHelloVersion(JSON.stringify({ ...old, type: 'heartbeat' }))).toBeNull();
    expect(claimedHelloVersion('{"type":"hello",')).toBeNull();
    expect(claimedHelloVersion('null')).toBeNull();
    expect(claimedHelloVersion(new ArrayBuffer(4))).toBeNull();
  });

  it('rejects empty batches and oversized log chunks', () => {
    expect(parseFrame(JSON.stringify({ type: 'complete', tasks: [] }), AgentFrame)).toMatchObject({
      ok: false,
    });
    const log = {
      type: 'log',
      taskId: TASK,
      attempt: 1,
      chunks: [{ stream: 'stdout', data: 'x'.repeat(64 * 1024 + 1) }],
    };
    expect(parseFrame(JSON.stringify(log), AgentFrame)).toMatchObject({
      ok: false,
      code: 'invalid_frame',
    });
  });
});

describe('parseFrame and deep nesting', () => {
  const JOB = '1f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
  const assign = (payload: string) =>
    `{"type":"assign","tasks":[{"taskId":"${TASK}","jobId":"${JOB}","attempt":3,"tenant":null,` +
    `"spec":{"kind":"echo","payload":${payload}}}]}`;

  it('refuses a frame nested 1,800 deep with an error instead of overflowing the stack', () => {
    const deep = '{"a":'.repeat(1800) + '1' + '}'.repeat(1800);
    expect(parseFrame(assign(deep), ServerFrame)).toMatchObject({
      ok: false,
      code: 'frame_too_deep',
      message: expect.stringContaining(String(MAX_FRAME_JSON_DEPTH)),
    });
    expect(claimedHelloVersion(deep)).toBeNull();
  });

  it('accepts a payload nested as deep as a body may be', () => {
    const payload = '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1);
    expect(parseFrame(assign(payload), ServerFrame).ok).toBe(true);
  });

  it('reads the tasks of a refused assign frame so that they can be failed', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(refusedAssignments(assign(deep))).toEqual([{ taskId: TASK, attempt: 3 }]);
    const oversized = assign(JSON.stringify('x'.repeat(MAX_FRAME_BYTES)));
    expect(parseFrame(oversized, ServerFrame)).toMatchObject({ code: 'frame_too_large' });
    expect(refusedAssignments(oversized)).toEqual([{ taskId: TASK, attempt: 3 }]);
    expect(refusedAssignments('{"type":"cancel","tasks":[]}')).toEqual([]);
    expect(refusedAssignments('{"type":"assign","tasks":[{"taskId":"x","attempt":1}]}')).toEqual(
      [],
    );
    expect(refusedAssignments('{')).toEqual([]);
    expect(refusedAssignments(new ArrayBuffer(2))).toEqual([]);
  });
});
