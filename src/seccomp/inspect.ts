// What a seccomp profile does, without running anything: the action it gives
// one syscall, or its BPF program as text (`tsrun seccomp check|dump`).
// Reads config.json (linux.seccomp), a bare linux.seccomp object, or a
// Docker/containers-common profile (reduced for this host as dockerd does).
import { readFileSync } from 'node:fs';
import type { LinuxSeccomp } from '../spec/types';
import { InvalidInputError } from '../errors';
import { compileSeccomp } from './compile';
import { decode, disassemble } from './bpf';
import { run } from './interpret';
import { actionName } from './profile';
import { archByAnyName, nativeArch, type ArchDef } from './arch';
import { isDockerProfile, fromDockerProfile } from './docker-profile';

export interface CheckQuery {
  syscall: string;
  arch?: string;
  args?: string;
  ip?: string;
}

/** What loadProfile looks at to tell the formats apart; compileSeccomp checks the rest. */
type ProfileFile = { linux?: { seccomp?: LinuxSeccomp }; defaultAction?: unknown } | null;

function loadProfile(file: string): { seccomp: LinuxSeccomp; path: string } {
  let json: ProfileFile;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidInputError(`seccomp: cannot read ${file}: ${(err as Error).message}`);
  }
  if (json?.linux?.seccomp) return { seccomp: json.linux.seccomp, path: 'linux.seccomp' };
  if (json?.linux) throw new InvalidInputError(`seccomp: ${file} has no linux.seccomp`);
  if (isDockerProfile(json)) return { seccomp: fromDockerProfile(json, nativeArch()), path: 'seccomp' };
  if (json?.defaultAction) return { seccomp: json as LinuxSeccomp, path: 'seccomp' };
  throw new InvalidInputError(`seccomp: ${file} is neither a config.json nor a seccomp profile`);
}

function compile(file: string) {
  const { seccomp, path } = loadProfile(file);
  return compileProgram(seccomp, path);
}

function compileProgram(seccomp: LinuxSeccomp, path: string) {
  try {
    return decode(compileSeccomp(seccomp, { path }).program);
  } catch (err) {
    throw new InvalidInputError(`seccomp: ${(err as Error).message}`);
  }
}

function parseNumber(s: string, what: string): bigint {
  const t = s.trim();
  if (!/^-?(0x[0-9a-f]+|0o?[0-7]+|\d+)$/i.test(t))
    throw new InvalidInputError(`seccomp: ${what} ${JSON.stringify(s)} is not a number`);
  const neg = t.startsWith('-');
  const v = BigInt(neg ? t.slice(1) : t);
  return BigInt.asUintN(64, neg ? -v : v);
}

/** The action's name, e.g. SCMP_ACT_ERRNO(1). */
export function checkSyscall(file: string, q: CheckQuery): string {
  return simulate(() => loadProfile(file), q);
}

/** The action a linux.seccomp object gives one syscall (the library's simulateSeccomp). */
export function simulateSyscall(seccomp: LinuxSeccomp, q: CheckQuery): string {
  return simulate(() => ({ seccomp, path: 'seccomp' }), q);
}

/** The query is checked before the profile is read, so a bad query is reported first. */
function simulate(profile: () => { seccomp: LinuxSeccomp; path: string }, q: CheckQuery): string {
  const arch: ArchDef | undefined = q.arch ? archByAnyName(q.arch) : nativeArch();
  if (!arch) throw new InvalidInputError(`seccomp: unknown architecture ${JSON.stringify(q.arch)}`);
  const nr = /^\d+$/.test(q.syscall) ? Number(q.syscall) : arch.table[q.syscall];
  if (nr === undefined)
    throw new InvalidInputError(`seccomp: ${arch.name} has no syscall ${JSON.stringify(q.syscall)}`);
  const args = q.args ? q.args.split(',').map((s, i) => parseNumber(s, `argument ${i}`)) : [];
  if (args.length > 6) throw new InvalidInputError('seccomp: at most 6 arguments');
  const { seccomp, path } = profile();
  return actionName(
    run(compileProgram(seccomp, path), { arch: arch.audit, nr, args, ip: q.ip ? parseNumber(q.ip, 'ip') : 0n }).ret,
  );
}

export function dumpProgram(file: string): string {
  const prog = compile(file);
  return `# ${prog.length} instructions\n` + disassemble(prog, actionName);
}
