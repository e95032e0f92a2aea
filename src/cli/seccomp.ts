// `tsrun seccomp check|dump`: what a profile does, without running anything
// (src/seccomp/inspect.ts).
import type { CommandModule } from 'yargs';
import { out } from './log';

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
  handler: async (a) => {
    const { checkSyscall } = await import('../seccomp/inspect');
    out(`${checkSyscall(a.config, a)}\n`);
  },
};

const dump: CommandModule<object, { config: string }> = {
  command: 'dump <config>',
  describe: 'print the BPF program compiled from a profile',
  builder: (y) => y.positional('config', { type: 'string', demandOption: true }),
  handler: async (a) => {
    const { dumpProgram } = await import('../seccomp/inspect');
    out(dumpProgram(a.config));
  },
};
export const seccompCommand: CommandModule = {
  command: 'seccomp <command>',
  describe: 'inspect a seccomp profile (check a syscall, dump the BPF program)',
  builder: (y) =>
    y
      .command(check as CommandModule)
      .command(dump as CommandModule)
      .demandCommand(1),
  handler: () => {},
};
