// `exec [flags] <id> <command> [args...]` and `exec --process FILE <id>`:
// runc's flags. Everything after the id is the command's, flags included
// (runc: sh -c is the command's -c, not --cap): separateCommand puts a `--`
// before it so that neither parser reads it.
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { commandIndex, PARSER_CONFIGURATION } from './globals';
import { InvalidInputError, TsrunError } from '../errors';

export const EXEC_PARSER_CONFIGURATION = {
  ...PARSER_CONFIGURATION,
  'populate--': true,
  'boolean-negation': false,
  'duplicate-arguments-array': true,
} as const;

/** Every value of a repeatable flag. */
const all = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : ([] as T[]).concat(v));
/** The last value of a flag given more than once (runc: the last wins). */
const last = <T>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v.at(-1) : v);

interface ExecArgs extends GlobalArgs {
  id: string;
  command?: string[];
  '--'?: string[];
  'console-socket'?: string | string[];
  'pidfd-socket'?: string | string[];
  cwd?: string | string[];
  env?: string | string[];
  tty: boolean;
  user?: string | string[];
  'additional-gids'?: number | number[];
  process?: string | string[];
  detach: boolean;
  'pid-file'?: string | string[];
  'process-label'?: string | string[];
  apparmor?: string | string[];
  'no-new-privs': boolean;
  cap?: string | string[];
  'preserve-fds': number | number[];
  'ignore-paused': boolean;
  cgroup?: string | string[];
}

export const execFlags = {
  'console-socket': {
    type: 'string',
    describe:
      'path to an AF_UNIX socket which will receive a file descriptor referencing ' +
      "the master end of the console's pseudoterminal",
  },
  'pidfd-socket': {
    type: 'string',
    describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process',
  },
  cwd: { type: 'string', describe: 'current working directory in the container' },
  env: { alias: 'e', type: 'string', describe: 'set environment variables' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'allocate a pseudo-TTY' },
  user: { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' },
  'additional-gids': { alias: 'g', type: 'number', describe: 'additional gids' },
  process: { alias: 'p', type: 'string', describe: 'path to the process.json' },
  detach: { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" },
  'pid-file': { type: 'string', describe: 'specify the file to write the process id to' },
  'process-label': { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' },
  apparmor: { type: 'string', describe: 'set the apparmor profile for the process' },
  'no-new-privs': { type: 'boolean', default: false, describe: 'set the no new privileges value for the process' },
  cap: { alias: 'c', type: 'string', describe: 'add a capability to the bounding set for the process' },
  'preserve-fds': {
    type: 'number',
    default: 0,
    describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
  },
  'ignore-paused': { type: 'boolean', default: false, describe: 'allow exec in a paused container' },
  cgroup: {
    type: 'string',
    describe: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.',
  },
} as const;

/** The exec flags that take the next word as their value. */
const WITH_VALUE = new Set(
  Object.entries(execFlags).flatMap(([name, f]) =>
    f.type === 'boolean' ? [] : [`--${name}`, ...('alias' in f ? [`-${f.alias}`] : [])],
  ),
);

/** argv with `--` after exec's id, when the command has words of its own. */
export function separateCommand(argv: string[]): string[] {
  const cmd = commandIndex(argv);
  if (argv[cmd] !== 'exec' || argv.includes('--')) return argv;
  for (let i = cmd + 1; i < argv.length; i++) {
    if (WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith('-'))
      return i + 1 < argv.length ? [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)] : argv;
  }
  return argv;
}

export const exec: CommandModule<GlobalArgs, ExecArgs> = {
  command: 'exec <id> [command..]',
  describe: 'execute new process inside the container',
  // The words after `--` (separateCommand) land in a['--']; --no-new-privs
  // is a flag, not a negation; --env, --cap and -g may be repeated (as
  // runc's lists), so a flag given twice is an array here (see last()).
  builder: (y) => y.options(execFlags).parserConfiguration(EXEC_PARSER_CONFIGURATION) as never,
  handler: async (a) => {
    try {
      globalThis.process.exitCode = await runExec(a);
    } catch (err) {
      throw execFailed(err);
    }
  },
};

/**
 * runc's status when exec itself fails, past its flags (a paused or missing
 * container, a bad --cgroup, an unwritable --pid-file, a process that could
 * not start): 255, so that a caller can tell it from the process's own status.
 */
const EXEC_FAILED = 255;

function execFailed(err: unknown): TsrunError {
  const message = err instanceof Error ? err.message : String(err);
  return new TsrunError(`exec failed: ${message}`, EXEC_FAILED, { cause: err });
}

/** Runs the command; resolves to the exit status of the exec'd process. */
async function runExec(a: ExecArgs): Promise<number> {
  const [{ containerConfig, execInContainer, parseSubCgroup }, p] = await Promise.all([
    import('../runtime/exec'),
    import('./exec-process'),
  ]);
  const cgroups = all(a.cgroup).map((c) => parseSubCgroup(String(c)));
  const command = [...all(a.command), ...all(a['--'])].map(String);
  const processFile = last(a.process);
  const preserveFds = last(a['preserve-fds']) ?? 0;
  if (processFile && command.length) throw new InvalidInputError('exec: a command cannot be given with --process');
  if (!processFile && !command.length) throw new InvalidInputError('exec: args must not be empty');
  const { saved, config } = containerConfig(a.root, a.id, a['ignore-paused']);
  const process = processFile
    ? p.readProcessFile(processFile)
    : p.processFromFlags(config.process ?? { cwd: '/', args: [] }, {
        args: command,
        cwd: last(a.cwd),
        env: all(a.env).map(String),
        tty: a.tty,
        user: last(a.user),
        additionalGids: all(a['additional-gids']).map(Number),
        caps: all(a.cap).map(String),
        noNewPrivs: a['no-new-privs'],
        apparmor: last(a.apparmor),
        processLabel: last(a['process-label']),
      });
  return execInContainer(
    {
      root: a.root,
      id: a.id,
      process,
      detach: a.detach,
      pidFile: last(a['pid-file']),
      consoleSocket: last(a['console-socket']),
      pidfdSocket: last(a['pidfd-socket']),
      processFile,
      preserveFds,
      ignorePaused: a['ignore-paused'],
      cgroups,
      user: processFile ? undefined : last(a.user),
    },
    saved,
    config,
  );
}
