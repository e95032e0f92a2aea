// Classic BPF as seccomp(2) accepts it: the instruction encoding, the
// seccomp_data layout and the SECCOMP_RET_* values, shared by the compiler,
// the interpreter and the disassembler.

/** struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF = {
  // classes
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  // sizes / modes
  W: 0x00,
  IMM: 0x00,
  ABS: 0x20,
  MEM: 0x60,
  LEN: 0x80,
  // alu / jmp ops
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  // sources
  K: 0x00,
  X: 0x08,
  A: 0x10,
  // misc
  TAX: 0x00,
  TXA: 0x80,
} as const;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** Offsets in struct seccomp_data (little-endian: low half of an arg first). */
export const DATA = {
  nr: 0,
  arch: 4,
  ipLo: 8,
  ipHi: 12,
  argLo: (i: number) => 16 + 8 * i,
  argHi: (i: number) => 20 + 8 * i,
  size: 64,
} as const;

/** The kernel's limit on one filter (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
export const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k: k >>> 0 });

export function encode(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((i, n) => {
    buf.writeUInt16LE(i.code, n * 8);
    buf.writeUInt8(i.jt, n * 8 + 2);
    buf.writeUInt8(i.jf, n * 8 + 3);
    buf.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return buf;
}

export function decode(buf: Buffer): Insn[] {
  if (buf.length % 8 !== 0)
    throw new Error(`BPF program of ${buf.length} bytes is not a whole number of 8-byte instructions`);
  const prog: Insn[] = [];
  for (let o = 0; o < buf.length; o += 8) {
    prog.push({
      code: buf.readUInt16LE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: buf.readUInt32LE(o + 4),
    });
  }
  return prog;
}

const fieldName = (off: number): string => {
  if (off === DATA.nr) return 'nr';
  if (off === DATA.arch) return 'arch';
  if (off === DATA.ipLo) return 'ip.lo';
  if (off === DATA.ipHi) return 'ip.hi';
  if (off >= 16 && off < 64 && off % 4 === 0) return `args[${(off - 16) >> 3}].${off % 8 === 0 ? 'lo' : 'hi'}`;
  return `[${off}]`;
};

const hex = (k: number) => '0x' + (k >>> 0).toString(16);

/** One instruction in readable form; `pc` resolves jump targets to line numbers. */
export function disassembleOne(i: Insn, pc: number, describeRet: (k: number) => string = hex): string {
  const cls = i.code & 0x07;
  const src = i.code & 0x08 ? 'x' : hex(i.k);
  const aluOps: Record<number, string> = {
    0x00: 'add',
    0x10: 'sub',
    0x20: 'mul',
    0x30: 'div',
    0x40: 'or',
    0x50: 'and',
    0x60: 'lsh',
    0x70: 'rsh',
    0x80: 'neg',
    0x90: 'mod',
    0xa0: 'xor',
  };
  switch (cls) {
    case BPF.LD:
    case BPF.LDX: {
      const reg = cls === BPF.LD ? 'a' : 'x';
      const mode = i.code & 0xe0;
      if (mode === BPF.ABS) return `ld${reg === 'x' ? 'x' : ''} ${reg} = data.${fieldName(i.k)}`;
      if (mode === BPF.MEM) return `${reg} = mem[${i.k}]`;
      if (mode === BPF.LEN) return `${reg} = len`;
      return `${reg} = ${hex(i.k)}`;
    }
    case BPF.ST:
      return `mem[${i.k}] = a`;
    case BPF.STX:
      return `mem[${i.k}] = x`;
    case BPF.ALU:
      return (i.code & 0xf0) === BPF.NEG ? 'a = -a' : `a ${aluOps[i.code & 0xf0] ?? '?'}= ${src}`;
    case BPF.JMP: {
      const op = i.code & 0xf0;
      if (op === BPF.JA) return `goto ${pc + 1 + i.k}`;
      const name = { 0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&' }[op] ?? '?';
      return `if (a ${name} ${src}) goto ${pc + 1 + i.jt} else goto ${pc + 1 + i.jf}`;
    }
    case BPF.RET:
      return (i.code & 0x18) === BPF.A ? 'return a' : `return ${describeRet(i.k)}`;
    default:
      return (i.code & 0xf8) === BPF.TXA ? 'a = x' : 'x = a';
  }
}

export function disassemble(prog: Insn[], describeRet?: (k: number) => string): string {
  const width = String(prog.length).length;
  return prog.map((i, pc) => `${String(pc).padStart(width)}: ${disassembleOne(i, pc, describeRet)}`).join('\n') + '\n';
}
