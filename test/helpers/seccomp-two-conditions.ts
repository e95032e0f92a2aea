// The shape of runc's own seccomp.bats "-ENOSYS handling" profile, shared by
// the compiler's unit test and its cross-check against libseccomp: two
// conditions on one argument are alternatives (runc 1.1.5 makes each a rule
// of its own), conditions on different arguments must all hold.
import type { LinuxSeccomp } from '../../src/spec/types';

const eq = (index: number, value: number) => ({ index, op: 'SCMP_CMP_EQ' as const, value });

export const TWO_CONDITIONS_PROFILE: LinuxSeccomp = {
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
  syscalls: [
    { names: ['process_vm_readv'], action: 'SCMP_ACT_ALLOW', args: [eq(0, 100), eq(0, 9001)] },
    { names: ['process_vm_writev'], action: 'SCMP_ACT_ERRNO', errnoRet: 55, args: [eq(0, 1337), eq(0, 2020)] },
    { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', args: [eq(0, 0), eq(1, 1337)] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [eq(0, 1), eq(0, 2), eq(1, 5)] },
  ],
};
