// What create and exec share with their caller around the process they
// start: the console socket a terminal's master is sent over, and the pid
// file.
import { writeFileSync, renameSync } from 'node:fs';
import { InvalidInputError } from '../errors';
import { SysError } from '../sys/libc';
import { connectUnix } from '../sys/socket';

/** runc's rules: a detached terminal needs a socket, a socket needs a terminal. */
export function checkTerminal(terminal: boolean | undefined, detach: boolean, consoleSocket: string | undefined): void {
  if (terminal && detach && !consoleSocket)
    throw new InvalidInputError('cannot allocate tty if tsrun will detach without setting console socket');
  if (!terminal && consoleSocket)
    throw new InvalidInputError('cannot use console socket if tsrun will not detach or allocate tty');
}

export function connectConsole(path: string): number {
  try {
    return connectUnix(path);
  } catch (e) {
    throw new InvalidInputError(
      `--console-socket ${path}: ${e instanceof SysError ? `connect: ${e.code}` : (e as Error).message}`,
    );
  }
}

/** Written beside and renamed into place: a reader never sees half a pid. */
export function writePidFile(path: string, pid: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}
