/** Finds the cluster's Scheduler Durable Object. */
import type { Env } from './env.ts';

/** One Scheduler per cluster; the local stack and a single deployment use `default`. */
export function scheduler(env: Env, cluster = 'default') {
  return env.SCHEDULER.get(env.SCHEDULER.idFromName(cluster));
}
