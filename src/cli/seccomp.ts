// `tsrun seccomp check|dump`: what a profile does, without running anything.
// Reads config.json (linux.seccomp), a bare linux.seccomp object, or a
// Docker/containers-common profile (reduced for this host as dockerd does).
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import type { LinuxSeccomp } from '../spec/types';
import { out } from './log';
import { UserError } from './errors';
import { compileSeccomp } from '../seccomp/compile';
import { decode, disassemble } from '../seccomp/bpf';
import { run } from '../seccomp/interpret';
import { actionName } from '../seccomp/profile';
import { archByAnyName, nativeArch, type ArchDef } from '../seccomp/arch';
import { isDockerProfile, fromDockerProfile } from '../seccomp/docker-profile';

function loadProfile(file: string): { seccomp: LinuxSeccomp; path: string } {
  let json: any;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`seccomp: cannot read ${file}: ${(err as Error).message}`);
  }
  if (json?.linux?.seccomp) return { seccomp: json.linux.seccomp, path: 'linux.seccomp' };
  if (json?.linux) throw new UserError(`seccomp: ${file} has no linux.seccomp`);
  if (isDockerProfile(json)) return { seccomp: fromDockerProfile(json, nativeArch()), path: 'seccomp' };
  if (json?.defaultAction) return { seccomp: json, path: 'seccomp' };
  throw new UserError(`seccomp: ${file} is neither a config.json nor a seccomp profile`);
}

function compile(file: string) {
  const { seccomp, path } = loadProfile(file);
  try {
    return decode(compileSeccomp(seccomp, { path }).program);
  } catch (err) {
    throw new UserError(`seccomp: ${(err as Error).message}`);
  }
}

function parseNumber(s: string, what: string): bigint {
  const t = s.trim();
  if (!/^-?(0x[0-9a-f]+|0o?[0-7]+|\d+)$/i.test(t)) throw new UserError(`seccomp: ${what} ${JSON.stringify(s)} is not a number`);
  const neg = t.startsWith('-');
  const v = BigInt(neg ? t.slice(1) : t);
  return BigInt.asUintN(64, neg ? -v : v);
}

const check: CommandModule<object, { config: string; syscall: string; arch?: string; args?: string; ip?: string }> = {
  command: 'check <config> <syscall>',
  describe: 'print the action a profile gives one syscall (name or number)',
  builder: (y) =>
    y
      .positional('config', { type: 'string', demandOption: true })
      .positional('syscall', { type: 'string', demandOption: true })
      .option('arch', { type: 'string', describe: 'x86_64, x86, x32, aarch64, arm (default: this host)' })
      .option('args', { type: 'string', describe: 'comma-separated arguments, e.g. 0xffffff9c,0,-100' })
      .option('ip', { type: 'string', describe: 'instruction pointer' }),
  handler: (a) => {
    const arch: ArchDef | undefined = a.arch ? archByAnyName(a.arch) : nativeArch();
    if (!arch) throw new UserError(`seccomp: unknown architecture ${JSON.stringify(a.arch)}`);
    const nr = /^\d+$/.test(a.syscall) ? Number(a.syscall) : arch.table[a.syscall];
    if (nr === undefined) throw new UserError(`seccomp: ${arch.name} has no syscall ${JSON.stringify(a.syscall)}`);
    const args = a.args ? a.args.split(',').map((s, i) => parseNumber(s, `argument ${i}`)) : [];
    if (args.length > 6) throw new UserError('seccomp: at most 6 arguments');
    const v = run(compile(a.config), { arch: arch.audit, nr, args, ip: a.ip ? parseNumber(a.ip, 'ip') : 0n });
    out(`${actionName(v.ret)}\n`);
  },
};

const dump: CommandModule<object, { config: string }> = {
  command: 'dump <config>',
  describe: 'print the BPF program compiled from a profile',
  builder: (y) => y.positional('config', { type: 'string', demandOption: true }),
  handler: (a) => {
    const prog = compile(a.config);
    out(`# ${prog.length} instructions\n` + disassemble(prog, actionName));
  },
};

export const seccompCommand: CommandModule = {
  command: 'seccomp <command>',
  describe: 'inspect a seccomp profile (check a syscall, dump the BPF program)',
  builder: (y) => y.command(check as CommandModule).command(dump as CommandModule).demandCommand(1),
  handler: () => {},
};
