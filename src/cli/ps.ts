// `ps <id> [ps options]`: the container's pids as JSON, or the host's `ps`
// output filtered to them (runc finds the PID column by its header).
import type { CommandModule } from 'yargs';
import { commandIndex, PARSER_CONFIGURATION, type GlobalArgs } from './globals';
import { InvalidInputError } from '../errors';
import { out } from './log';

interface PsArgs extends GlobalArgs {
  id: string;
  format: string;
  psArgs?: (string | number)[];
}

/** Keeps the header and the rows whose PID column is one of pids. */
export function filterPsOutput(text: string, pids: number[]): string {
  const lines = text.split('\n');
  const pidIndex = lines[0].trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new InvalidInputError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const rows = [lines[0]];
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    const pid = Number(field);
    if (!/^\d+$/.test(field ?? '')) throw new InvalidInputError(`unable to parse pid: ${JSON.stringify(field)}`);
    if (wanted.has(pid)) rows.push(line);
  }
  return rows.join('\n') + '\n';
}

/**
 * The ps options as typed: whatever follows the container id after `ps` and
 * its own flags. yargs would read `-ef` as flags of ours (-f is --format).
 */
export function splitPsArgv(argv: string[]): string[] | undefined {
  const cmd = commandIndex(argv);
  if (argv[cmd] !== 'ps') return undefined;
  for (let i = cmd + 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--format' || a === '-f') i++;
    else if (a.startsWith('--format=') || (a.startsWith('-f') && a.length > 2 && !a.startsWith('--'))) continue;
    else if (a === '--') return argv.slice(i + 2);
    else return argv.slice(i + 1);
  }
  return [];
}

export const ps: CommandModule<GlobalArgs, PsArgs> = {
  command: 'ps <id> [psArgs..]',
  describe: 'ps displays the processes running inside a container',
  builder: (y) =>
    y
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
      // Everything after the id belongs to ps (runc: SkipArgReorder), dashes included: see splitPsArgv.
      .parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true })
      .strict(false) as never,
  handler: async (args) => {
    const { containerPids } = await import('../runtime/ps');
    const pids = containerPids(args.root, args.id);
    if (args.format === 'json') {
      out(JSON.stringify(pids) + '\n');
      return;
    }
    if (args.format !== 'table') throw new InvalidInputError('invalid format option');
    const psArgs = splitPsArgv(process.argv.slice(2)) ?? (args.psArgs ?? []).map(String);
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.error) throw new InvalidInputError(`ps: ${r.error.message}`);
    if (r.status !== 0) throw new InvalidInputError(`ps exited with ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`);
    out(filterPsOutput(r.stdout, pids));
  },
};
