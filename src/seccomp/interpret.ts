// A classic BPF interpreter with the seccomp rules: runs a filter on one
// (arch, nr, ip, args) and reports the verdict and how many instructions ran.
import { BPF, DATA, type Insn } from './bpf';

export interface SeccompData {
  /** AUDIT_ARCH_* value. */
  arch: number;
  /** Syscall number as the kernel reports it (x32 numbers carry bit 30). */
  nr: number;
  ip?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: bigint[];
}

export interface Verdict {
  /** The 32-bit SECCOMP_RET_* value the filter returned. */
  ret: number;
  /** Instructions executed, the return included. */
  count: number;
}

const M32 = (1n << 32n) - 1n;

function seccompDataWords(d: SeccompData): Uint32Array {
  const w = new Uint32Array(DATA.size / 4);
  w[0] = d.nr >>> 0;
  w[1] = d.arch >>> 0;
  const ip = BigInt.asUintN(64, d.ip ?? 0n);
  w[2] = Number(ip & M32);
  w[3] = Number(ip >> 32n);
  for (let i = 0; i < 6; i++) {
    const a = BigInt.asUintN(64, d.args?.[i] ?? 0n);
    w[4 + 2 * i] = Number(a & M32);
    w[5 + 2 * i] = Number(a >> 32n);
  }
  return w;
}

export function run(prog: Insn[], data: SeccompData): Verdict {
  const words = seccompDataWords(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  let count = 0;
  const load = (off: number) => {
    if (off % 4 !== 0 || off < 0 || off >= DATA.size)
      throw new Error(`BPF load of data offset ${off} outside seccomp_data`);
    return words[off / 4];
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc];
    count++;
    const cls = i.code & 0x07;
    const src = i.code & BPF.X ? x : i.k >>> 0;
    switch (cls) {
      case BPF.LD:
      case BPF.LDX: {
        const mode = i.code & 0xe0;
        const v = mode === BPF.ABS ? load(i.k) : mode === BPF.MEM ? mem[i.k] : mode === BPF.LEN ? DATA.size : i.k >>> 0;
        if (cls === BPF.LD) a = v;
        else x = v;
        break;
      }
      case BPF.ST:
        mem[i.k] = a;
        break;
      case BPF.STX:
        mem[i.k] = x;
        break;
      case BPF.ALU:
        a = alu(i.code & 0xf0, a, src);
        break;
      case BPF.JMP: {
        const op = i.code & 0xf0;
        if (op === BPF.JA) {
          pc += i.k;
          break;
        }
        const cond =
          op === BPF.JEQ ? a === src : op === BPF.JGT ? a > src : op === BPF.JGE ? a >= src : (a & src) !== 0;
        pc += cond ? i.jt : i.jf;
        break;
      }
      case BPF.RET:
        return { ret: ((i.code & 0x18) === BPF.A ? a : i.k) >>> 0, count };
      case BPF.MISC:
        if ((i.code & 0xf8) === BPF.TXA) a = x;
        else x = a;
        break;
    }
  }
  throw new Error('BPF program ran off its end without returning');
}

function alu(op: number, a: number, b: number): number {
  switch (op) {
    case BPF.ADD:
      return (a + b) >>> 0;
    case BPF.SUB:
      return (a - b) >>> 0;
    case BPF.MUL:
      return Math.imul(a, b) >>> 0;
    case BPF.DIV:
      return b === 0 ? 0 : Math.floor(a / b) >>> 0;
    case BPF.MOD:
      return b === 0 ? 0 : (a % b) >>> 0;
    case BPF.OR:
      return (a | b) >>> 0;
    case BPF.AND:
      return (a & b) >>> 0;
    case BPF.XOR:
      return (a ^ b) >>> 0;
    case BPF.LSH:
      return b >= 32 ? 0 : (a << b) >>> 0;
    case BPF.RSH:
      return b >= 32 ? 0 : a >>> b;
    case BPF.NEG:
      return -a >>> 0;
    default:
      throw new Error(`unknown BPF ALU op 0x${op.toString(16)}`);
  }
}
