// OOM notifications. v1: an eventfd registered on memory.oom_control through
// cgroup.event_control. v2: the oom_kill counter of memory.events. Both are
// polled without blocking, so the event loop stays free.
import { closeSync, existsSync, openSync, constants } from 'node:fs';
import { join } from 'node:path';
import { drainEventfd, eventfdNonblocking } from '../sys/cgroup-eventfd';
import { cgWrite, readKeyed } from './files';

const POLL_MS = 50;

export function watchOomV1(dir: string, onOom: () => void): () => void {
  const control = openSync(join(dir, 'memory.oom_control'), constants.O_RDONLY);
  let efd = -1;
  try {
    efd = eventfdNonblocking(dir);
    cgWrite(dir, 'cgroup.event_control', `${efd} ${control}`);
  } catch (err) {
    closeSync(control);
    if (efd >= 0) closeSync(efd);
    throw err;
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    closeSync(efd);
    closeSync(control);
  };
  const timer = setInterval(() => {
    if (drainEventfd(efd) === 0n) return;
    // The eventfd also fires when the cgroup is removed.
    if (!existsSync(dir)) stop();
    else onOom();
  }, POLL_MS);
  return stop;
}

export function watchOomV2(dir: string, onOom: () => void): () => void {
  const count = () => {
    const ev = readKeyed(dir, 'memory.events');
    return ev.oom_kill ?? ev.oom ?? 0;
  };
  let last = count();
  const timer = setInterval(() => {
    if (!existsSync(dir)) {
      clearInterval(timer);
      return;
    }
    const now = count();
    if (now > last) onOom();
    last = now;
  }, POLL_MS);
  return () => clearInterval(timer);
}
