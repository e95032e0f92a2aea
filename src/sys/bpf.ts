// bpf(2): just what cgroup device filters need — load a
// BPF_PROG_TYPE_CGROUP_DEVICE program, attach/detach it on a cgroup2
// directory and list what is attached there. The bpf_attr union is laid out
// by hand (offsets from include/uapi/linux/bpf.h); pointers inside it point
// at koffi-allocated memory that does not move while the kernel reads it.
import { koffi, libc, check } from './libc';

const SYS_bpf = process.arch === 'arm64' ? 280 : 321;

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

const ATTR_SIZE = 128;

const _bpf = libc.func('long syscall(long nr, int cmd, _Inout_ uint8_t *attr, unsigned int size)');

function bpf(cmd: number, attr: Buffer, what: string, arg: string): number {
  return Number(check(_bpf(SYS_bpf, cmd, attr, ATTR_SIZE) as number, what, arg));
}

/** Native memory holding `bytes`; freed by the caller with koffi.free. */
function pinned(bytes: Buffer): { ptr: unknown; addr: bigint } {
  const ptr = koffi.alloc('uint8_t', Math.max(bytes.length, 1));
  Buffer.from(koffi.view(ptr, bytes.length)).set(bytes);
  return { ptr, addr: koffi.address(ptr) };
}

export interface LoadedProgram {
  fd: number;
  /** The verifier's log when loading failed, for error messages. */
  log?: string;
}

/** Loads a program (`insns` = 8-byte eBPF instructions); returns its fd (O_CLOEXEC by default in the kernel). */
export function loadProgram(progType: number, insns: Buffer, license: string, label: string): number {
  const code = pinned(insns);
  const lic = pinned(Buffer.from(license + '\0'));
  const logSize = 65536;
  const log = koffi.alloc('uint8_t', logSize);
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(progType, 0);
    attr.writeUInt32LE(insns.length / 8, 4);
    attr.writeBigUInt64LE(code.addr, 8);
    attr.writeBigUInt64LE(lic.addr, 16);
    // Log only on failure: a second load with log level 1 explains why.
    const fd = Number(_bpf(SYS_bpf, BPF_PROG_LOAD, attr, ATTR_SIZE));
    if (fd >= 0) return fd;
    const errno = koffi.errno();
    attr.writeUInt32LE(1, 24);
    attr.writeUInt32LE(logSize, 28);
    attr.writeBigUInt64LE(koffi.address(log), 32);
    _bpf(SYS_bpf, BPF_PROG_LOAD, attr, ATTR_SIZE);
    const text = Buffer.from(koffi.view(log, logSize))
      .toString('utf8')
      .replace(/\0[\s\S]*$/, '')
      .trim();
    koffi.errno(errno);
    check(-1, 'bpf(BPF_PROG_LOAD)', text ? `${label}: ${text.split('\n').slice(-3).join(' / ')}` : label);
    return -1;
  } finally {
    koffi.free(code.ptr);
    koffi.free(lic.ptr);
    koffi.free(log);
  }
}

export function attachProgram(
  cgroupFd: number,
  progFd: number,
  attachType: number,
  flags: number,
  label: string,
): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  attr.writeUInt32LE(flags, 12);
  bpf(BPF_PROG_ATTACH, attr, 'bpf(BPF_PROG_ATTACH)', label);
}

export function detachProgram(cgroupFd: number, progFd: number, attachType: number, label: string): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  bpf(BPF_PROG_DETACH, attr, 'bpf(BPF_PROG_DETACH)', label);
}

/** Ids of the programs attached directly to the cgroup for `attachType`. */
export function queryPrograms(cgroupFd: number, attachType: number, label: string): number[] {
  const max = 64;
  const ids = koffi.alloc('uint32_t', max);
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(cgroupFd, 0);
    attr.writeUInt32LE(attachType, 4);
    attr.writeBigUInt64LE(koffi.address(ids), 16);
    attr.writeUInt32LE(max, 24);
    bpf(BPF_PROG_QUERY, attr, 'bpf(BPF_PROG_QUERY)', label);
    const count = attr.readUInt32LE(24);
    const view = Buffer.from(koffi.view(ids, max * 4));
    return Array.from({ length: Math.min(count, max) }, (_, i) => view.readUInt32LE(i * 4));
  } finally {
    koffi.free(ids);
  }
}

export function programFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0);
  return bpf(BPF_PROG_GET_FD_BY_ID, attr, 'bpf(BPF_PROG_GET_FD_BY_ID)', String(id));
}
