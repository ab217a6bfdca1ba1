/** The shared language of the control plane, the Scheduler Durable Object and the agents. */
export * from './version.ts';
export * from './limits.ts';
export * from './paths.ts';
export * from './errors.ts';
export * from './workers.ts';
export * from './policy.ts';
export * from './jobs.ts';
export * from './logs.ts';
export * from './object-stores.ts';
export * from './tenants.ts';
export * from './aggregate.ts';
export * from './template.ts';
export * from './pipeline-steps.ts';
export * from './pipelines.ts';
export * from './agent-identity.ts';
export * from './frames.ts';
export * from './parse-frame.ts';
