// `tsrun start`: release the init blocked on the exec fifo.
import { openSync, readSync, closeSync, unlinkSync, constants } from 'node:fs';
import { UserError } from '../cli/errors';
import { runHooksWarnOnly } from './hooks';
import { ContainerDir, statusOf, type Saved } from '../state/store';
import { isSameLiveProcess, sleepMs } from '../state/proc';
import { hookState } from './create';

export function startContainer(c: ContainerDir): Saved {
  const saved = c.read();
  const status = statusOf(c, saved);
  if (status !== 'created' || !saved) {
    if (status === 'stopped') throw new UserError('cannot start a container that has stopped');
    if (status === 'running') throw new UserError('cannot start an already running container');
    throw new UserError(`cannot start a container in the ${status} state`);
  }
  // Non-blocking: a dead init must not leave `start` waiting forever for a writer.
  const fd = openSync(c.fifoPath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (let delay = 1; ; delay = Math.min(delay * 2, 10)) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n === 1) break;
      if (!isSameLiveProcess(saved.pid, saved.pidStart)) throw new UserError('container init exited before it could be started');
      sleepMs(delay);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(c.fifoPath);
  runHooksWarnOnly('poststart', saved.hooks?.poststart, hookState(saved, 'running'));
  return saved;
}
