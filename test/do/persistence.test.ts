/** The Scheduler's SQLite storage, its migrations, durability across restarts, and the lease alarm. */
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { forgetInlineOutputs, withoutInline } from '../../durable-objects/aggregate-inline.ts';
import { mayHaveIntermediates } from '../../durable-objects/db/tasks.ts';
import { createSql } from '../../durable-objects/db/sql.ts';
import { SCHEMA_VERSION, migrate } from '../../durable-objects/db/schema.ts';
import {
  api,
  alarmAt,
  assignmentOf,
  cleanUp,
  getJob,
  getTask,
  getWorker,
  joinAgent,
  query,
  registerWorker,
  runAlarmNow,
  sendLog,
  stub,
  submitJob,
  waitFor,
} from './helpers.ts';

/** Any row, for tests that compare what SQLite holds as it is. */
const AnyRow = z.record(z.string(), z.unknown());

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

afterEach(cleanUp);

describe('schema', () => {
  it('creates its tables and records the schema version', async () => {
    await api('GET', '/v1/health'); // wakes the Scheduler, which migrates in its constructor
    const tables = (
      await query<{ name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`,
      )
    ).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['jobs', 'logs', 'meta', 'tasks', 'workers']));
    expect(await query(`SELECT value FROM meta WHERE key = 'schema_version'`)).toEqual([
      { value: String(SCHEMA_VERSION) },
    ]);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
  });

  it('migrates idempotently and refuses a schema newer than the code', async () => {
    await registerWorker();
    await runInDurableObject(stub(), (_, state) => {
      const sql = createSql(state.storage);
      const snapshot = () => ({
        objects: sql.rows(AnyRow, `SELECT type, name, sql FROM sqlite_master ORDER BY name`),
        meta: sql.rows(AnyRow, `SELECT * FROM meta ORDER BY key`),
        workers: sql.rows(AnyRow, `SELECT * FROM workers ORDER BY seq`),
      });
      const before = snapshot();
      migrate(sql);
      migrate(sql);
      expect(snapshot()).toEqual(before);

      sql.run(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, String(SCHEMA_VERSION + 1));
      try {
        expect(() => migrate(sql)).toThrow(/newer than this code/);
      } finally {
        sql.run(`UPDATE meta SET value = ? WHERE key = 'schema_version'`, String(SCHEMA_VERSION));
      }
    });
  });

  it('enforces its enum columns with CHECK constraints', async () => {
    await expect(
      query(
        `INSERT INTO workers (id, address, state, registered_at) VALUES ('x', 'h:1', 'sleeping', 0)`,
      ),
    ).rejects.toThrow(/CHECK constraint/);
    expect(await query(`SELECT * FROM workers WHERE id = 'x'`)).toEqual([]);
  });

  it('wraps SQL failures with the query as context', async () => {
    await runInDurableObject(stub(), (_, state) => {
      const sql = createSql(state.storage);
      expect(() => sql.rows(AnyRow, `SELECT nope FROM   workers`)).toThrow(
        /\(in query: SELECT nope FROM workers\)/,
      );
    });
  });

  it('parses the rows it reads back, and refuses one that does not fit, naming the query', async () => {
    await runInDurableObject(stub(), (_, state) => {
      const sql = createSql(state.storage);
      expect(sql.row(z.object({ n: z.number() }), `SELECT 2 AS n, 'x' AS extra`)).toEqual({ n: 2 });
      expect(() => sql.rows(z.object({ n: z.number() }), `SELECT 'two' AS n`)).toThrow(
        /does not fit its schema.*\(in query: SELECT 'two' AS n\)/s,
      );
    });
  });
});

describe('inline outputs of aggregation steps', () => {
  it('shows them by size in the API and forgets their bytes when told the job ended', async () => {
    const job = await submitJob({ kind: 'echo' });
    const taskId = (await getJob(job.id)).tasks![0]!.id;
    const bytes = btoa('x'.repeat(300));
    const result = {
      rowsRead: 1,
      partitions: [
        { index: 0, inline: bytes, groups: 2 },
        { index: 1, key: 'k/part-1.arrow', groups: 1 },
      ],
    };
    await runInDurableObject(stub(), (_, state) => {
      createSql(state.storage).run(
        `UPDATE tasks SET kind = 'aggregate-map', result = ?, spec = ? WHERE id = ?`,
        JSON.stringify(result),
        JSON.stringify({ step: 'final', inputs: [], inline: [bytes] }),
        taskId,
      );
    });
    const shown = [
      { index: 0, inlineBytes: 300, groups: 2 },
      { index: 1, key: 'k/part-1.arrow', groups: 1 },
    ];
    expect((await getTask(taskId)).result).toEqual({ rowsRead: 1, partitions: shown });
    await runInDurableObject(stub(), (_, state) => {
      forgetInlineOutputs(createSql(state.storage), job.id);
    });
    const [row] = await query<{ result: string; spec: string }>(
      `SELECT result, spec FROM tasks WHERE id = ?`,
      taskId,
    );
    expect(JSON.parse(row!.result)).toEqual({ rowsRead: 1, partitions: shown });
    expect(JSON.parse(row!.spec)).toEqual({ step: 'final', inputs: [], inline: [] });
  });

  it('shows and keeps an inline output by its size, and an inline input list as empty', () => {
    const result = {
      rowsRead: 3,
      partitions: [
        { index: 0, inline: btoa('abcd'), groups: 1 },
        { index: 1, inline: btoa('abcde'), groups: 2 },
        { index: 2, key: 'k', groups: 3 },
      ],
    };
    expect(withoutInline(result)).toEqual({
      rowsRead: 3,
      partitions: [
        { index: 0, inlineBytes: 4, groups: 1 },
        { index: 1, inlineBytes: 5, groups: 2 },
        { index: 2, key: 'k', groups: 3 },
      ],
    });
    expect(withoutInline({ step: 'final', inputs: ['k'], inline: ['QUJD'] })).toEqual({
      step: 'final',
      inputs: ['k'],
      inline: [],
    });
    expect(withoutInline(null)).toBeNull();
  });
});

describe('which ended aggregations the cleanup lists their store for', () => {
  const inline = { rowsRead: 1, partitions: [{ index: 0, inline: btoa('x'), groups: 1 }] };
  const stored = { rowsRead: 1, partitions: [{ index: 0, key: 'k/part-0.arrow', groups: 1 }] };
  const task = (kind: string, state: string, attempt: number, result: unknown) => ({
    kind,
    state,
    attempt,
    result,
  });
  const cases: [string, ReturnType<typeof task>, boolean][] = [
    [
      'a map that ran once and handed all back',
      task('aggregate-map', 'succeeded', 1, inline),
      false,
    ],
    ['a map that wrote a partial', task('aggregate-map', 'succeeded', 1, stored), true],
    ['a map that ran twice', task('aggregate-map', 'succeeded', 2, inline), true],
    ['a map that failed', task('aggregate-map', 'failed', 1, null), true],
    [
      'a reduce that wrote',
      task('aggregate-reduce', 'succeeded', 1, { groups: 1, key: 'r' }),
      true,
    ],
    ['a reduce that handed back', task('aggregate-reduce', 'succeeded', 1, { inline: 'x' }), false],
    [
      'a final step (its result stays)',
      task('aggregate-final', 'succeeded', 1, { key: 'f' }),
      false,
    ],
  ];
  for (const [name, row, expected] of cases) {
    it(`${expected ? 'lists' : 'does not list'} after ${name}`, async () => {
      const job = await submitJob({ kind: 'echo' });
      const taskId = (await getJob(job.id)).tasks![0]!.id;
      const found = await runInDurableObject(stub(), (_, state) => {
        const sql = createSql(state.storage);
        sql.run(
          `UPDATE tasks SET kind = ?, state = ?, attempt = ?, result = ? WHERE id = ?`,
          row.kind,
          row.state,
          row.attempt,
          row.result === null ? null : JSON.stringify(row.result),
          taskId,
        );
        return mayHaveIntermediates(sql, job.id);
      });
      expect(found).toBe(expected);
    });
  }
});

describe('rows', () => {
  it('stores a registered worker with its join token hashed, never in the clear', async () => {
    const { worker, joinToken, address } = await registerWorker();
    const [row] = await query<{
      address: string;
      state: string;
      token_hash: string;
      conn_id: string | null;
    }>(`SELECT address, state, token_hash, conn_id FROM workers WHERE id = ?`, worker.id);
    expect(row).toEqual({
      address,
      state: 'pending',
      token_hash: await sha256(joinToken),
      conn_id: null,
    });
    const leaks = await query(
      `SELECT 1 FROM workers WHERE instr(coalesce(token_hash, '') || address || labels, ?) > 0`,
      joinToken,
    );
    expect(leaks).toEqual([]);
  });

  it('stores a job, its tasks, their results and output', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({
      kind: 'echo',
      payload: { p: 1 },
      count: 2,
      retries: 2,
      name: 'stored',
    });
    expect(
      await query(
        `SELECT name, kind, spec, state, retries, tasks_total FROM jobs WHERE id = ?`,
        job.id,
      ),
    ).toEqual([
      {
        name: 'stored',
        kind: 'echo',
        spec: JSON.stringify({ payload: { p: 1 }, count: 2 }),
        state: 'running',
        retries: 2,
        tasks_total: 2,
      },
    ]);
    const frame = await agent.nextFrame('assign');
    const tasks = frame.type === 'assign' ? frame.tasks.filter((t) => t.jobId === job.id) : [];
    expect(tasks).toHaveLength(2);
    const [first] = tasks;
    if (!first) throw new Error('no task');
    sendLog(agent, { taskId: first.taskId, attempt: 1 }, [{ stream: 'stdout', data: 'hello\n' }]);
    agent.send({
      type: 'complete',
      tasks: tasks.map((t) => ({ taskId: t.taskId, attempt: t.attempt, result: { i: t.taskId } })),
    });
    await agent.sync();

    const rows = await query<{
      idx: number;
      kind: string;
      cost: number;
      state: string;
      attempt: number;
      worker_id: string;
      result: string;
    }>(
      `SELECT idx, kind, cost, state, attempt, worker_id, result FROM tasks WHERE job_id = ? ORDER BY idx`,
      job.id,
    );
    expect(rows.map((r) => [r.idx, r.kind, r.cost, r.state, r.attempt, r.worker_id])).toEqual([
      [0, 'echo', 0, 'succeeded', 1, workerId],
      [1, 'echo', 0, 'succeeded', 1, workerId],
    ]);
    expect(rows.map((r) => JSON.parse(r.result) as unknown)).toEqual(
      expect.arrayContaining([{ i: first.taskId }]),
    );
    expect(
      await query(
        `SELECT task_id, job_id, attempt, stream, data FROM logs WHERE job_id = ?`,
        job.id,
      ),
    ).toEqual([
      { task_id: first.taskId, job_id: job.id, attempt: 1, stream: 'stdout', data: 'hello\n' },
    ]);
    expect(
      await query(
        `SELECT state, n_succeeded, n_failed, n_cancelled FROM jobs WHERE id = ?`,
        job.id,
      ),
    ).toEqual([{ state: 'succeeded', n_succeeded: 2, n_failed: 0, n_cancelled: 0 }]);
  });

  it('keeps everything when the Durable Object restarts', async () => {
    const { worker } = await registerWorker();
    const job = await submitJob({ kind: 'echo', workers: [worker.id], name: 'survivor' });
    const before = await getJob(job.id);
    await abortAllDurableObjects();
    expect(await getJob(job.id)).toEqual(before);
    expect(await getWorker(worker.id)).toMatchObject({ id: worker.id, state: 'pending' });
    expect(await query(`SELECT value FROM meta WHERE key = 'schema_version'`)).toEqual([
      { value: String(SCHEMA_VERSION) },
    ]);
  });
});

describe('lease alarm', () => {
  it('takes the tasks of a silent agent, marks its worker lost, and spares live agents', async () => {
    const silent = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(silent.agent, job.id);
    const live = await joinAgent();

    // Armed while agents are connected (an alarm running now reads null until it sets the next).
    await waitFor(alarmAt, 'the alarm to be armed');
    await query(`UPDATE workers SET last_heartbeat_at = 0 WHERE id = ?`, silent.workerId);

    await runAlarmNow();

    expect(await getWorker(silent.workerId)).toMatchObject({
      state: 'lost',
      connected: false,
      runningTasks: 0,
    });
    expect((await silent.agent.closed()).code).toBe(4001);
    expect(await getWorker(live.workerId)).toMatchObject({ state: 'ready', connected: true });
    expect(await assignmentOf(live.agent, job.id)).toMatchObject({
      taskId: task.taskId,
      attempt: 2,
    });
    expect(await getTask(task.taskId)).toMatchObject({
      state: 'assigned',
      attempt: 2,
      workerId: live.workerId,
    });
    // The alarm stays armed while agents are connected.
    await waitFor(alarmAt, 'the alarm to stay armed');
  });

  it('leaves agents alone whose heartbeats are recent', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    agent.send({ type: 'heartbeat' });
    await agent.sync();
    await runAlarmNow();
    await agent.sync();
    expect(agent.closeEvent).toBeNull();
    expect(await getWorker(workerId)).toMatchObject({
      state: 'ready',
      connected: true,
      runningTasks: 1,
    });
    expect(await getTask(task.taskId)).toMatchObject({ state: 'assigned', attempt: 1 });
  });

  it('stops re-arming once no agent is connected, but for retention', async () => {
    const { agent } = await joinAgent();
    agent.close();
    await cleanUp();
    await runAlarmNow();
    // What is left is retention's (docs/storage.md): the oldest finished job's expiry at the
    // cluster's default of 7 days, or, as jobs ended since the cap was last checked, the next check
    // a minute after the last.
    const [row] = await query<{ expiry: number; checked: string | null }>(
      `SELECT min(finished_at) + 604800000 AS expiry,
         (SELECT value FROM meta WHERE key = 'retention_cap_checked_at') AS checked
       FROM jobs WHERE finished_at IS NOT NULL`,
    );
    const due =
      row?.expiry === null || row?.expiry === undefined
        ? [null]
        : [row.expiry, row.checked === null ? undefined : Number(row.checked) + 60_000];
    const alarm = await runInDurableObject(stub(), (_, state) => state.storage.getAlarm());
    expect(due).toContain(alarm);
  });
});
