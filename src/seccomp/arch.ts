// The architectures the compiler knows: their AUDIT_ARCH_* value as the
// kernel puts it in seccomp_data.arch, their word size and syscall table.
import { syscalls as x86_64 } from './tables/x86_64';
import { syscalls as x86 } from './tables/x86';
import { syscalls as x32 } from './tables/x32';
import { syscalls as aarch64 } from './tables/aarch64';
import { syscalls as arm } from './tables/arm';

export type ArchName = 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm';

export interface ArchDef {
  name: ArchName;
  /** The spec's name, SCMP_ARCH_*. */
  scmp: string;
  audit: number;
  /** libseccomp compares only the low 32 bits of arguments on 32-bit ABIs (x32 included). */
  bits: 32 | 64;
  table: Readonly<Record<string, number>>;
  /** Syscall numbers of this ABI lie in [lo, hi] within its audit arch. */
  lo: number;
  hi: number;
}

export const X32_SYSCALL_BIT = 0x40000000;

export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

const FULL = 0xffffffff;

export const ARCHES: Record<ArchName, ArchDef> = {
  x86_64: {
    name: 'x86_64',
    scmp: 'SCMP_ARCH_X86_64',
    audit: AUDIT_ARCH.X86_64,
    bits: 64,
    table: x86_64,
    lo: 0,
    hi: X32_SYSCALL_BIT - 1,
  },
  x32: {
    name: 'x32',
    scmp: 'SCMP_ARCH_X32',
    audit: AUDIT_ARCH.X86_64,
    bits: 32,
    table: x32,
    lo: X32_SYSCALL_BIT,
    hi: FULL,
  },
  x86: { name: 'x86', scmp: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, bits: 32, table: x86, lo: 0, hi: FULL },
  aarch64: {
    name: 'aarch64',
    scmp: 'SCMP_ARCH_AARCH64',
    audit: AUDIT_ARCH.AARCH64,
    bits: 64,
    table: aarch64,
    lo: 0,
    hi: FULL,
  },
  arm: { name: 'arm', scmp: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH.ARM, bits: 32, table: arm, lo: 0, hi: FULL },
};

const byScmp = new Map(Object.values(ARCHES).map((a) => [a.scmp, a]));

/** Names the spec allows that no host running tsrun can execute natively or in compat mode. */
export const FOREIGN_SCMP_ARCHES = new Set([
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
]);

export function archByScmp(name: string): ArchDef | undefined {
  return byScmp.get(name);
}

/** Accepts x86_64, SCMP_ARCH_X86_64, amd64, i386, arm64 … */
export function archByAnyName(name: string): ArchDef | undefined {
  const n = name.toLowerCase().replace(/^scmp_arch_/, '');
  const alias: Record<string, ArchName> = {
    amd64: 'x86_64',
    x64: 'x86_64',
    i386: 'x86',
    i686: 'x86',
    ia32: 'x86',
    arm64: 'aarch64',
  };
  return (ARCHES as Record<string, ArchDef>)[alias[n] ?? n];
}

/** The architecture node itself runs as: always part of a filter, as with libseccomp. */
export function nativeArch(): ArchDef {
  const a = archByAnyName(process.arch);
  if (!a) throw new Error(`seccomp: no syscall table for this host's architecture (${process.arch})`);
  return a;
}
