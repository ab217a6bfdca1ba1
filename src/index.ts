/** Entry of the control plane Worker: the HTTP app, and the Durable Object class it binds. */
import { app } from './app.ts';

export { Scheduler } from '../durable-objects/scheduler.ts';
export default app;
