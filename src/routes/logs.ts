/** Serves task or job output: a page of entries, or with ?follow=true an NDJSON stream to the end. */
import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { unwrap } from '../errors.ts';
import { readQuery } from '../validate.ts';
import { LogsQuery } from '../../protocol/index.ts';
import { ownerScope } from '../auth/principal.ts';

type Scope = { taskId: string } | { jobId: string };

export async function serveLogs(c: Context<AppEnv>, scope: Scope): Promise<Response> {
  const query = readQuery(c, LogsQuery);
  const stub = scheduler(c.env);
  const owner = ownerScope(c);
  if (query.follow === 'true') {
    const params = new URLSearchParams({ after: String(query.after ?? 0) });
    if (owner !== null) params.set('owner', owner);
    if ('taskId' in scope) params.set('task', scope.taskId);
    else params.set('job', scope.jobId);
    const response = await stub.fetch(`https://scheduler/follow?${params}`);
    return new Response(response.body, { status: response.status, headers: response.headers });
  }
  return c.json(unwrap(await stub.readLogs(owner, scope, query.after, query.limit)));
}
