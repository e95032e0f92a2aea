import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { rootlessMode } from '../linux/rootless';
import { loadSystemdDriver } from '../cgroups/systemd-link';
import { phase } from '../log/phase';

export interface CreateArgs extends GlobalArgs {
  id: string;
  bundle: string;
  'pid-file'?: string;
  'console-socket'?: string;
  'pidfd-socket'?: string;
  'no-pivot': boolean;
  'no-new-keyring': boolean;
  'preserve-fds': number;
}

/** The flags `create` and `run` share (runc's names). */
export const createFlags = {
  bundle: { alias: 'b', type: 'string', default: '.', describe: 'path to the root of the bundle directory' },
  'pid-file': { type: 'string', describe: 'file to write the process id to' },
  'console-socket': { type: 'string', describe: 'AF_UNIX socket to which the pty master is sent' },
  'pidfd-socket': {
    type: 'string',
    describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process',
  },
  'no-pivot': {
    type: 'boolean',
    default: false,
    describe: 'do not use pivot_root to jail the process (chroot instead)',
  },
  'no-new-keyring': { type: 'boolean', default: false, describe: 'do not create a new session keyring' },
  'preserve-fds': {
    type: 'number',
    default: 0,
    describe: 'pass N additional file descriptors (from 3) to the container',
  },
} as const;

export function createOptions(args: CreateArgs, detach: boolean) {
  return {
    root: args.root,
    id: args.id,
    bundle: args.bundle,
    pidFile: args['pid-file'],
    consoleSocket: args['console-socket'],
    pidfdSocket: args['pidfd-socket'],
    noPivot: args['no-pivot'],
    noNewKeyring: args['no-new-keyring'],
    preserveFds: args['preserve-fds'],
    detach,
    systemdCgroup: args.systemdCgroup,
    rootless: rootlessMode(args.rootless),
    // runc's: systemd (Type=notify) or podman hands the runtime its socket in the environment.
    notifySocket: process.env.NOTIFY_SOCKET || undefined,
  };
}

export const create: CommandModule<GlobalArgs, CreateArgs> = {
  command: 'create <id>',
  describe: 'create a container',
  builder: (y) => y.options(createFlags) as never,
  handler: async (args) => {
    const { createContainer } = await import('../runtime/create');
    phase('create.modules');
    if (args.systemdCgroup) await loadSystemdDriver();
    // Given back, not left to the exit: the next command would first have to see that its holder died.
    createContainer(createOptions(args, true)).container.unlock();
  },
};
