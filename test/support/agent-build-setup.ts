/** The e2e project's global setup: the agents the tests start are the built agent, rebuilt if stale. */
import { ensureAgentBuilt } from '../../cli/local/agent-build.ts';

export default function setup(): void {
  ensureAgentBuilt();
}
