/**
 * Pure placement of a stream group: all of its instances at once, or none. Instances are dealt
 * round-robin over the workers with free slots, so a group spreads over the cluster.
 */
/**
 * What a stream group's tasks are pinned to: no worker has this id, so the queue never places
 * them one by one; gang-dispatch.ts places each group whole.
 */
export const GANG_HOLD = 'stream-group';

export interface GangWorker {
  id: string;
  freeSlots: number;
  acceptsCommands: boolean;
  streams?: boolean;
}

export type GangPlacement =
  { ok: true; assignments: { taskId: string; workerId: string }[] } | { ok: false; free: number };

export function placeGang(
  workers: readonly GangWorker[],
  taskIds: readonly string[],
): GangPlacement {
  const room = workers
    .filter((w) => w.acceptsCommands && w.streams === true && w.freeSlots > 0)
    .map((w) => ({ id: w.id, left: w.freeSlots }));
  const free = room.reduce((sum, w) => sum + w.left, 0);
  if (free < taskIds.length) return { ok: false, free };
  const assignments: { taskId: string; workerId: string }[] = [];
  let w = 0;
  for (const taskId of taskIds) {
    while (room[w % room.length]!.left === 0) w++;
    const worker = room[w % room.length]!;
    worker.left--;
    assignments.push({ taskId, workerId: worker.id });
    w++;
  }
  return { ok: true, assignments };
}
