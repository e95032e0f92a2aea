// The seccomp compiler and simulator, on a profile object (linux.seccomp).
import type { LinuxSeccomp } from '../spec/types';
import { InvalidInputError } from '../errors';
import { compileSeccomp as compile, type CompiledSeccomp } from '../seccomp/compile';
import { simulateSyscall } from '../seccomp/inspect';
import { archByAnyName, nativeArch, type ArchName } from '../seccomp/arch';

export type { CompiledSeccomp } from '../seccomp/compile';
export type { ArchName } from '../seccomp/arch';

function arch(name: string | undefined) {
  if (name === undefined) return nativeArch();
  const a = archByAnyName(name);
  if (!a) throw new InvalidInputError(`arch: unknown architecture ${JSON.stringify(name)}`);
  return a;
}

/**
 * The BPF program (struct sock_filter[]) and flags seccomp(2) gets for a profile, for `arch` (default: this host's).
 */
export function compileSeccomp(profile: LinuxSeccomp, archName?: ArchName | string): CompiledSeccomp {
  const native = arch(archName);
  try {
    return compile(profile, { path: 'profile', nativeArch: native });
  } catch (e) {
    throw new InvalidInputError(`seccomp: ${(e as Error).message}`);
  }
}

/**
 * The action ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO(1)", …) the profile gives one syscall (name or number) with these
 * arguments.
 */
export function simulateSeccomp(
  profile: LinuxSeccomp,
  syscall: string | number,
  args: (number | bigint)[] = [],
  opts: { arch?: ArchName | string } = {},
): string {
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'number' && typeof a !== 'bigint'))
    throw new InvalidInputError('args: must be an array of numbers or BigInts');
  return simulateSyscall(profile, {
    syscall: String(syscall),
    arch: opts.arch,
    args: args.length ? args.map(String).join(',') : undefined,
  });
}
