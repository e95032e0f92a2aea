// `tsrun start`: release the init blocked on the exec fifo.
import { openSync, readSync, closeSync, unlinkSync, constants } from 'node:fs';
import { InvalidInputError, ContainerStateError, TsrunError } from '../errors';
import { debug } from '../log';
import { phase } from '../log/phase';
import { runHooks } from '../hooks/run';
import { ContainerDir, statusOf, ociState, type Saved } from '../state/store';
import { isSameLiveProcess } from '../state/proc';
import { sleepMs } from '../sys/sleep';
import { stopContainer } from './kill';

/**
 * Read the exec fifo (the init blocks until we drain it), until the init
 * closes it: at execve of the program (close-on-exec), or after writing why
 * it could not get there. Returns that reason, or undefined on success.
 * Non-blocking, so a dead init never leaves `start` waiting for a writer.
 * Between empty reads it sleeps (no poll(2): that would need FFI), briefly:
 * the init needs ~1 ms from its release to execve, and each read is one
 * syscall. Before the release it checks that the init still exists.
 */
const NAP_MS = 0.2;
const NAP_MAX_MS = 5;

function releaseInit(fifo: string, saved: Saved): string | undefined {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  let released = false;
  try {
    const buf = Buffer.alloc(65536);
    for (let nap = NAP_MS; ; nap = Math.min(nap * 2, NAP_MAX_MS)) {
      let n = -1;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n > 0) {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        released = true;
        nap = NAP_MS / 2;
        continue;
      }
      // n === 0: no writer left. After its filler the init is done; before, it died.
      if (n === 0 && released) break;
      if (n === 0 && !isSameLiveProcess(saved.pid, saved.pidStart))
        return 'container init exited before it could be started';
      sleepMs(nap);
    }
  } finally {
    closeSync(fd);
  }
  // The init's filler (NUL bytes) comes first, then its error if it had one.
  const text = Buffer.concat(chunks).toString('utf8').replace(/^\0+/, '');
  return text ? `container init: ${text}` : undefined;
}

export function startContainer(c: ContainerDir): Saved {
  const saved = startable(c);
  release(c, saved);
  return saved;
}

/** The saved state of a container `start` may start; runc's words otherwise. */
export function startable(c: ContainerDir): Saved {
  const saved = c.read();
  const status = statusOf(c, saved);
  if (status !== 'created' || !saved) {
    if (status === 'stopped') throw new ContainerStateError('cannot start a container that has stopped');
    if (status === 'running') throw new ContainerStateError('cannot start an already running container');
    throw new ContainerStateError(`cannot start a container in the ${status} state`);
  }
  // The init stays created and waiting: delete removes it.
  if (saved.noProcess)
    throw new InvalidInputError(
      'config.json: /process: required when start is called (config.md#process); the container stays created',
    );
  return saved;
}

export function release(c: ContainerDir, saved: Saved): void {
  debug('start: releasing the container init', { pid: saved.pid });
  phase('start.checked'); // state.json read, status from /proc
  const failure = releaseInit(c.fifoPath, saved);
  phase('start.released'); // the init read the fifo and closed it (execve or its error)
  unlinkSync(c.fifoPath);
  if (failure) throw new InvalidInputError(failure);
  runPoststart(saved);
}

/**
 * runtime.md (v1.3) lifecycle step 9: "If any poststart hook fails, the
 * runtime MUST generate an error, stop the container, and continue the
 * lifecycle at step 12." The hooks after it do not run; the container is
 * killed and left stopped, as after a failed startContainer hook, for
 * `delete` to destroy it and run the poststop hooks (runc 1.5 does the same;
 * runc 1.1 runs poststart hooks during `create`, which then fails).
 * The hook's error already opens with runc's "error running hook" (hooks/run.ts).
 */
function runPoststart(saved: Saved): void {
  try {
    runHooks('poststart', saved.hooks?.poststart, ociState(saved, 'running'));
  } catch (e) {
    const why = (e as Error).message;
    debug('start: a poststart hook failed: stopping the container', { pid: saved.pid });
    try {
      stopContainer(saved);
    } catch (k) {
      throw new TsrunError(`${why}; stopping the container failed: ${(k as Error).message}`);
    }
    throw new TsrunError(`${why}; the container was stopped`);
  }
}
