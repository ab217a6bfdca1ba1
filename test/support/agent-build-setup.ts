/** The unit and e2e projects' global setup: the agents tests start are the built agent, rebuilt if stale. */
import { ensureAgentBuilt } from '../../cli/local/agent-build.ts';

export default function setup(): void {
  ensureAgentBuilt();
}
