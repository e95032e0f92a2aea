// `update <id>`: runc's flags or a LinuxResources JSON (--resources FILE|-).
import { existsSync, readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { InvalidInputError } from '../errors';
import { warn } from './log';
import type { LinuxResources } from '../spec/types';
import type { UpdateFlags } from './update-flags';

interface UpdateArgs extends GlobalArgs, UpdateFlags {
  id: string;
  resources?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  'kernel-memory'?: string;
  'kernel-memory-tcp'?: string;
}

const STRING_FLAGS: [string, string][] = [
  ['blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'],
  ['cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpu-share', 'CPU shares (relative weight vs. other containers)'],
  ['cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpuset-cpus', 'CPU(s) to use'],
  ['cpuset-mems', 'Memory node(s) to use'],
  ['memory', 'Memory limit (in bytes)'],
  ['memory-reservation', 'Memory reservation or soft_limit (in bytes)'],
  ['memory-swap', "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ['pids-limit', 'Maximum number of pids allowed in the container'],
  ['l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema'],
  ['mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema'],
];

/**
 * `--resources -` / `-r -` (stdin, as containerd's shim passes it) as
 * `--resources=-`: yargs-parser takes a lone '-' for a positional word, so
 * the flag got no value and the container id became an extra argument.
 */
export function stdinResources(argv: string[]): string[] {
  const i = argv.findIndex((a, k) => (a === '--resources' || a === '-r') && argv[k + 1] === '-');
  return i < 0 ? argv : [...argv.slice(0, i), `${argv[i]}=-`, ...argv.slice(i + 2)];
}

function readResources(path: string): LinuxResources {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new InvalidInputError(
      `${path === '-' ? 'stdin' : path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as LinuxResources;
  } catch (e) {
    throw new InvalidInputError(
      `${path === '-' ? 'stdin' : path}: not a JSON LinuxResources object: ${(e as Error).message}`,
    );
  }
}

/** runc's wording on a host without Intel RDT; tsrun has no RDT support at all. */
function refuseIntelRdt(args: UpdateArgs): void {
  const rdt = existsSync('/sys/fs/resctrl/schemata');
  if (args.l3CacheSchema)
    throw new InvalidInputError(
      rdt
        ? 'Intel RDT/CAT: l3 cache schema is not supported by tsrun'
        : 'Intel RDT/CAT: l3 cache schema is not enabled',
    );
  if (args.memBwSchema)
    throw new InvalidInputError(
      rdt
        ? 'Intel RDT/MBA: memory bandwidth schema is not supported by tsrun'
        : 'Intel RDT/MBA: memory bandwidth schema is not enabled',
    );
}

export const update: CommandModule<GlobalArgs, UpdateArgs> = {
  command: 'update <id>',
  describe: 'update container resource constraints',
  builder: (y) => {
    let b = y.option('resources', {
      alias: 'r',
      type: 'string',
      describe:
        "path to the file containing the resources to update or '-' to read from the standard input " +
        '(a LinuxResources JSON; other options are then ignored)',
    });
    for (const [name, describe] of STRING_FLAGS) b = b.option(name, { type: 'string', describe });
    // runc 1.1 spells it --cpu-share; --cpu-shares is accepted too. Kernel memory is obsolete and ignored.
    b = b.alias('cpu-share', 'cpu-shares');
    b = b
      .option('kernel-memory', { type: 'string', hidden: true })
      .option('kernel-memory-tcp', { type: 'string', hidden: true });
    return b as never;
  },
  handler: async (args) => {
    const [{ resourcesFromFlags }, { updateContainer }] = await Promise.all([
      import('./update-flags'),
      import('../runtime/update'),
    ]);
    const resources = args.resources ? readResources(args.resources) : resourcesFromFlags(args);
    refuseIntelRdt(args);
    if (!args.resources && (args['kernel-memory'] || args['kernel-memory-tcp']))
      warn('Kernel memory settings are ignored and will be removed');
    await updateContainer(args.root, args.id, resources);
  },
};
