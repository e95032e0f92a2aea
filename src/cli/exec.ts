// `exec [flags] <id> <command> [args...]` and `exec --process FILE <id>`:
// runc's flags. Everything after the id is the command's, flags included
// (runc: sh -c is the command's -c, not --cap): separateCommand puts a `--`
// before it so that neither parser reads it.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { commandIndex, PARSER_CONFIGURATION } from './globals';
import { UserError } from './errors';

interface ExecArgs extends GlobalArgs {
  id: string;
  command?: string[];
  '--'?: string[];
  'console-socket'?: string;
  cwd?: string;
  env?: string[];
  tty: boolean;
  user?: string;
  'additional-gids'?: number[];
  process?: string;
  detach: boolean;
  'pid-file'?: string;
  'process-label'?: string;
  apparmor?: string;
  'no-new-privs': boolean;
  cap?: string[];
  'preserve-fds': number;
  'ignore-paused': boolean;
}

export const execFlags = {
  'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
  cwd: { type: 'string', describe: 'current working directory in the container' },
  env: { alias: 'e', type: 'string', array: true, describe: 'set environment variables' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'allocate a pseudo-TTY' },
  user: { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' },
  'additional-gids': { alias: 'g', type: 'number', array: true, describe: 'additional gids' },
  process: { alias: 'p', type: 'string', describe: 'path to the process.json' },
  detach: { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' },
  'pid-file': { type: 'string', describe: 'specify the file to write the process id to' },
  'process-label': { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' },
  apparmor: { type: 'string', describe: 'set the apparmor profile for the process' },
  'no-new-privs': { type: 'boolean', default: false, describe: 'set the no new privileges value for the process' },
  cap: { alias: 'c', type: 'string', array: true, describe: 'add a capability to the bounding set for the process' },
  'preserve-fds': { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' },
  'ignore-paused': { type: 'boolean', default: false, describe: 'allow exec in a paused container' },
} as const;

/** The exec flags that take the next word as their value. */
const WITH_VALUE = new Set(
  Object.entries(execFlags).flatMap(([name, f]) => (f.type === 'boolean' ? [] : [`--${name}`, ...('alias' in f ? [`-${f.alias}`] : [])])),
);

/** argv with `--` after exec's id, when the command has words of its own. */
export function separateCommand(argv: string[]): string[] {
  const cmd = commandIndex(argv);
  if (argv[cmd] !== 'exec' || argv.includes('--')) return argv;
  for (let i = cmd + 1; i < argv.length; i++) {
    if (WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return i + 1 < argv.length ? [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)] : argv;
  }
  return argv;
}

export const exec: CommandModule<GlobalArgs, ExecArgs> = {
  command: 'exec <id> [command..]',
  describe: 'execute new process inside the container',
  // The words after `--` (separateCommand) land in a['--'].
  builder: (y) => y.options(execFlags).parserConfiguration({ ...PARSER_CONFIGURATION, 'populate--': true }) as never,
  handler: async (a) => {
    const [{ containerConfig, execInContainer }, p] = await Promise.all([import('../runtime/exec'), import('../runtime/exec-process')]);
    const command = [...(a.command ?? []), ...(a['--'] ?? [])].map(String);
    if (a.process && command.length) throw new UserError('exec: a command cannot be given with --process');
    if (!a.process && !command.length) throw new UserError('exec: args must not be empty');
    p.checkPreservedFds(a['preserve-fds']);
    const { saved, config } = containerConfig(a.root, a.id, a['ignore-paused']);
    const process = a.process
      ? p.readProcessFile(a.process)
      : p.processFromFlags(config.process!, {
          args: command,
          cwd: a.cwd,
          env: (a.env ?? []).map(String),
          tty: a.tty,
          user: a.user,
          additionalGids: a['additional-gids'] ?? [],
          caps: (a.cap ?? []).map(String),
          noNewPrivs: a['no-new-privs'],
          apparmor: a.apparmor,
          processLabel: a['process-label'],
        });
    globalThis.process.exitCode = await execInContainer(
      { root: a.root, id: a.id, process, detach: a.detach, pidFile: a['pid-file'], consoleSocket: a['console-socket'], preserveFds: a['preserve-fds'], ignorePaused: a['ignore-paused'] },
      saved,
      config,
    );
  },
};
