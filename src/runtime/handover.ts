// What create and exec share with their caller around the process they
// start: the console socket a terminal's master is sent over, the pidfd
// socket, and the pid file.
import { writeFileSync, renameSync } from 'node:fs';
import { InvalidInputError } from '../errors';
import { SysError } from '../sys/libc';
import { connectUnix, sendFds } from '../sys/socket';
import { pidfdOpen } from '../sys/pidfd';
import { closeQuiet } from '../sys/fs';

/** runc's rules: a detached terminal needs a socket, a socket needs a terminal. */
export function checkTerminal(terminal: boolean | undefined, detach: boolean, consoleSocket: string | undefined): void {
  if (terminal && detach && !consoleSocket)
    throw new InvalidInputError('cannot allocate tty if tsrun will detach without setting console socket');
  if (!terminal && consoleSocket)
    throw new InvalidInputError('cannot use console socket if tsrun will not detach or allocate tty');
}

export function connectConsole(path: string): number {
  return connectFlag('--console-socket', path);
}

/** runc's --pidfd-socket: a stream connection made before the process starts. */
export function connectPidfdSocket(path: string): number {
  return connectFlag('--pidfd-socket', path);
}

function connectFlag(flag: string, path: string): number {
  try {
    return connectUnix(path);
  } catch (e) {
    throw new InvalidInputError(
      `${flag} ${path}: ${e instanceof SysError ? `connect: ${e.code}` : (e as Error).message}`,
    );
  }
}

/**
 * runc's wire format: one message whose data is the kind of process
 * ("standard" for the init, "setns" for exec's) and whose SCM_RIGHTS carries
 * the pidfd.
 */
export function sendPidfd(sock: number, pid: number, name: string): void {
  let pidfd: number | undefined;
  try {
    pidfd = pidfdOpen(pid);
    sendFds(sock, Buffer.from(name), [pidfd]);
  } catch (e) {
    throw new InvalidInputError(`--pidfd-socket: sending the pidfd of ${pid}: ${(e as Error).message}`);
  } finally {
    closeQuiet(pidfd);
  }
}

/** Written beside and renamed into place: a reader never sees half a pid. */
export function writePidFile(path: string, pid: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}
