// While the init or exec's process runs as tsrun, its fd 2 is /dev/null: a
// crash of the runtime (Bun's crash report) must never reach the container's
// stderr. The container's stderr waits on plan.stderrFd and goes onto fd 2
// in the native last steps (tsrun_finish); what the plan says of fd 2 means
// that fd until then.
import type { LogTarget } from '../log';

/** The plan with its log on the container's stderr where it named fd 2. */
export function withContainerStderr<P extends { log: LogTarget; stderrFd?: number }>(plan: P): P {
  if (plan.stderrFd === undefined || plan.log.fd !== 2) return plan;
  return { ...plan, log: { ...plan.log, fd: plan.stderrFd } };
}
