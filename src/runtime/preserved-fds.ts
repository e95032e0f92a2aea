// --preserve-fds N hands fds 3..3+N-1 of the caller to the container's
// process. Each must be open and must be the caller's: an fd inherited
// across tsrun's execve cannot be close-on-exec, while every fd the runtime
// opens itself (Bun's event loop takes the lowest free numbers) is.
import { InvalidInputError } from '../errors';
import { isCloexec } from '../sys/fs';

export function checkPreservedFds(n: number): number[] {
  const fds = Array.from({ length: n }, (_, i) => 3 + i);
  for (const fd of fds) {
    const cloexec = isCloexec(fd);
    if (cloexec === undefined) throw new InvalidInputError(`--preserve-fds ${n}: fd ${fd} is not open`);
    if (cloexec)
      throw new InvalidInputError(`--preserve-fds ${n}: fd ${fd} was not passed to tsrun (it is tsrun's own)`);
  }
  return fds;
}
