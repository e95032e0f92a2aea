// cgroup v2 device control: the reduced rule state compiled to a
// BPF_PROG_TYPE_CGROUP_DEVICE program and attached with BPF_F_ALLOW_MULTI.
// On update the new program is attached before the old ones are detached, so
// there is never a moment without a filter.
import { openSync, closeSync, constants } from 'node:fs';
import {
  attachProgram,
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  detachProgram,
  loadProgram,
  programFdById,
  queryPrograms,
} from '../sys/bpf';
import { ALL_ACCESS, type DeviceState } from './device-rules';

// Instruction encoding (include/uapi/linux/bpf.h, bpf_common.h).
const LDX_MEM_W = 0x61; // r_dst = *(u32 *)(r_src + off)
const ALU32_MOV_X = 0xbc;
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU64_MOV_K = 0xb7;
const JMP_JNE_K = 0x55;
const JMP_JEQ_K = 0x15;
const JMP_EXIT = 0x95;

const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK / _CHAR

type Insn = [op: number, dst: number, src: number, off: number, imm: number];

function encode(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([op, dst, src, off, imm], i) => {
    buf.writeUInt8(op, i * 8);
    buf.writeUInt8((src << 4) | dst, i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return buf;
}

/**
 * Registers: r2 = access bits, r3 = device type, r4 = major, r5 = minor
 * (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; },
 * access_type = access << 16 | type). Returns 1 to allow, 0 to deny.
 */
export function compileDeviceFilter(state: DeviceState): Buffer {
  const insns: Insn[] = [
    [LDX_MEM_W, 2, 1, 0, 0],
    [ALU32_MOV_X, 3, 2, 0, 0],
    [ALU32_AND_K, 3, 0, 0, 0xffff],
    [ALU32_RSH_K, 2, 0, 0, 16],
    [LDX_MEM_W, 4, 1, 4, 0],
    [LDX_MEM_W, 5, 1, 8, 0],
  ];
  const verdict = state.defaultAllow ? 0 : 1; // what a matching exception returns
  for (const e of state.exceptions) {
    // Jumps are emitted with off = -1 and patched to "end of this block".
    const block: Insn[] = [];
    block.push([JMP_JNE_K, 3, 0, -1, DEV_TYPE[e.type]]);
    if (e.major >= 0) block.push([JMP_JNE_K, 4, 0, -1, e.major]);
    if (e.minor >= 0) block.push([JMP_JNE_K, 5, 0, -1, e.minor]);
    if (state.defaultAllow) {
      // A deny exception hits when any requested bit is in it.
      block.push([ALU32_MOV_X, 1, 2, 0, 0], [ALU32_AND_K, 1, 0, 0, e.access], [JMP_JEQ_K, 1, 0, -1, 0]);
    } else if (e.access !== ALL_ACCESS) {
      // An allow exception hits when it covers every requested bit.
      block.push([ALU32_MOV_X, 1, 2, 0, 0], [ALU32_AND_K, 1, 0, 0, ~e.access & ALL_ACCESS], [JMP_JNE_K, 1, 0, -1, 0]);
    }
    block.push([ALU64_MOV_K, 0, 0, 0, verdict], [JMP_EXIT, 0, 0, 0, 0]);
    block.forEach((insn, i) => {
      if (insn[3] === -1) insn[3] = block.length - i - 1;
    });
    insns.push(...block);
  }
  insns.push([ALU64_MOV_K, 0, 0, 0, state.defaultAllow ? 1 : 0], [JMP_EXIT, 0, 0, 0, 0]);
  return encode(insns);
}

/** Attaches the filter to a cgroup2 directory, replacing the programs attached before. */
export function attachDeviceFilter(dir: string, state: DeviceState): void {
  const cg = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const before = queryPrograms(cg, BPF_CGROUP_DEVICE, dir);
    const prog = loadProgram(BPF_PROG_TYPE_CGROUP_DEVICE, compileDeviceFilter(state), 'Apache', dir);
    try {
      attachProgram(cg, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, dir);
    } finally {
      closeSync(prog);
    }
    detachPrograms(cg, before, dir);
  } finally {
    closeSync(cg);
  }
}

function detachPrograms(cg: number, ids: number[], dir: string): void {
  for (const id of ids) {
    const fd = programFdById(id);
    try {
      detachProgram(cg, fd, BPF_CGROUP_DEVICE, dir);
    } finally {
      closeSync(fd);
    }
  }
}

/** Ids of the device programs attached to `dir` (for tests and state checks). */
export function attachedDeviceFilters(dir: string): number[] {
  const cg = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return queryPrograms(cg, BPF_CGROUP_DEVICE, dir);
  } finally {
    closeSync(cg);
  }
}
