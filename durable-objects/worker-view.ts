/** A worker as the API shows it: its row, the attempts it holds and its key's fingerprint. */
import type { WorkerState, WorkerView } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { WorkerRow } from './db/rows.ts';
import { listWorkers } from './db/workers.ts';
import { liveAttemptCount, liveAttemptsByWorker } from './db/attempts.ts';
import { keyFingerprint } from './agent-keys.ts';
import { toWorkerView } from './views.ts';

export async function listWorkerViews(
  sql: Sql,
  state: WorkerState | undefined,
  now: number,
): Promise<WorkerView[]> {
  const rows = listWorkers(sql, state);
  const running = liveAttemptsByWorker(sql);
  const fingerprints = await Promise.all(rows.map((row) => keyFingerprint(row.public_key)));
  return rows.map((row, i) =>
    toWorkerView(row, running.get(row.id) ?? 0, now, fingerprints[i] ?? null),
  );
}

export async function workerView(sql: Sql, row: WorkerRow, now: number): Promise<WorkerView> {
  const running = liveAttemptCount(sql, row.id);
  return toWorkerView(row, running, now, await keyFingerprint(row.public_key));
}
