// Builds a BPF program back to front, so that every jump target is already
// placed when the jump is written: offsets are known at once, and a target
// beyond a conditional jump's 8-bit reach gets a trampoline (or a copy of
// the return it leads to) right after the jump.
import { BPF, stmt, jump, type Insn } from './bpf';

/** A position counted from the end of the program (0 = last instruction). */
export type Label = number;

const MAX_COND_OFFSET = 255;

export class Emitter {
  private rev: Insn[] = [];
  private rets = new Map<number, Label>();

  /** Position the next emitted instruction will take. */
  get next(): Label {
    return this.rev.length;
  }

  private push(i: Insn): Label {
    this.rev.push(i);
    return this.rev.length - 1;
  }

  stmt(code: number, k: number): Label {
    return this.push(stmt(code, k));
  }

  /** `return k`, shared with an earlier identical return while it stays reachable. */
  ret(k: number): Label {
    const at = this.rets.get(k >>> 0);
    if (at !== undefined && this.next + 2 - 1 - at <= MAX_COND_OFFSET) return at;
    const l = this.push(stmt(BPF.RET | BPF.K, k));
    this.rets.set(k >>> 0, l);
    return l;
  }

  /** Makes `target` reachable by a conditional jump placed after up to two trampolines. */
  private reach(target: Label): Label {
    // The jump lands at most two places further on (one trampoline per target).
    if (this.next + 2 - 1 - target <= MAX_COND_OFFSET) return target;
    const t = this.rev[target];
    if (t.code === (BPF.RET | BPF.K)) return this.ret(t.k);
    return this.push(stmt(BPF.JMP | BPF.JA, this.next - 1 - target));
  }

  /** A conditional jump `if (a OP k) goto jt else goto jf`. */
  cond(op: number, k: number, jt: Label, jf: Label): Label {
    if (jt === jf) return jt;
    const t = this.reach(jt);
    const f = this.reach(jf);
    const p = this.next;
    return this.push(jump(BPF.JMP | op | BPF.K, k, p - 1 - t, p - 1 - f));
  }

  isRet(l: Label): boolean {
    return this.rev[l].code === (BPF.RET | BPF.K);
  }

  /** Makes the instruction emitted next continue at `target`: nothing if it is the last one placed. */
  fallInto(target: Label): void {
    if (target === this.next - 1) return;
    const t = this.rev[target];
    if (t.code === (BPF.RET | BPF.K)) this.push(stmt(BPF.RET | BPF.K, t.k));
    else this.push(stmt(BPF.JMP | BPF.JA, this.next - 1 - target));
  }

  /** The program in execution order. */
  finish(): Insn[] {
    return [...this.rev].reverse();
  }
}
