/**
 * Joins a stream task's process to the data plane: its stdin to its upstreams (Inbox), its stdout
 * to its downstreams (Router), its fd 3 to barriers and its result (Control). Any failure of these
 * stops the task through `fail`.
 */
import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { StreamPlan, TaskRef } from '../../protocol/index.ts';
import type { JsonResult } from '../task-outcome.ts';
import { Control } from './control.ts';
import type { StreamHub } from './hub.ts';
import { Inbox } from './inbox.ts';
import { Router } from './router.ts';

export interface StreamIo {
  /** The records went to peers: stdout is not the task's log. */
  stdoutTaken: boolean;
  /** After the process exited well: every downstream gets its end marker. */
  finish(): Promise<void>;
  /**
   * After the task ended: when it ended well, its upstreams are told it reads no more (they stop
   * sending it records, as a pipe's writer whose reader has exited); else its channels are cut,
   * and its upstreams fail as `peer` (its group runs again).
   */
  close(endedWell: boolean): void;
  result(): JsonResult | undefined;
}

export function joinStream(
  hub: StreamHub,
  plan: StreamPlan,
  task: TaskRef & { from: string },
  child: ChildProcess,
  fail: (message: string) => void,
): StreamIo {
  const [stdin, stdout, , fd3] = child.stdio;
  if (!stdin || !stdout || !isDuplex(fd3))
    throw new Error('a stream task needs stdin, stdout and fd 3 as pipes');
  const inbox = new Inbox(plan.epoch, plan.secret, plan.inputs, stdin, fail);
  const unregister = hub.server.register(task.taskId, inbox);
  const control = new Control(fd3, { barrier: (name) => hub.barrier(task, name), fail });
  const router =
    plan.outputs.length > 0
      ? Router.start(plan, task.from, stdout, fail).catch((error: Error) => {
          fail(`cannot reach a downstream instance: ${error.message}`);
          return null;
        })
      : null;
  return {
    stdoutTaken: router !== null,
    finish: async () => (await router)?.finish(),
    close: (endedWell) => {
      if (endedWell) {
        inbox.release();
        // Late connections of this run are let go too, until its upstreams have surely connected.
        setTimeout(unregister, RELEASED_MS).unref();
      } else {
        unregister();
        inbox.close();
      }
      control.close();
      hub.forget(task);
      void router?.then((r) => r?.close());
    },
    result: () => control.result,
  };
}

/** How long a task that ended well still answers its upstreams' connections (with `done`). */
const RELEASED_MS = 60_000;

const isDuplex = (stream: unknown): stream is Duplex => stream instanceof Duplex;
