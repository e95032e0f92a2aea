// The NUMA memory policy of the calling thread (set_mempolicy(2)). It is
// per-thread, inherited by children and kept across execve: the container
// init sets it on the main thread, the one that becomes the program.
import { arch } from 'node:process';
import { libc, check } from './libc';

// glibc has no wrapper (libnuma's is the usual one): the raw syscall.
const SYS_set_mempolicy: Record<string, number> = { x64: 238, arm64: 237 };

const _setMempolicy = libc.func('long syscall(long nr, int mode, const uint8_t *nodemask, unsigned long maxnode)');

/**
 * `nodemask` is read as unsigned longs, so its length must be a multiple
 * of 8; `label` names the request in the error.
 */
export function setMempolicy(mode: number, nodemask: Uint8Array | null, label: string): void {
  const nr = SYS_set_mempolicy[arch];
  if (nr === undefined) throw new Error(`tsrun: no set_mempolicy syscall number for architecture ${arch}`);
  // maxnode counts one more than the bits the kernel reads (an off-by-one
  // kept since 2.6: libnuma passes size + 1 too).
  const maxnode = nodemask ? nodemask.length * 8 + 1 : 0;
  check(Number(_setMempolicy(nr, mode, nodemask, maxnode)), 'set_mempolicy', label);
}
