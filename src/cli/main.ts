// tsrun's command line. The lifecycle commands a shim runs for every
// container, and run, take the fast path (fast-path.ts); everything else,
// and anything the fast path declines, goes through yargs (parser.ts),
// loaded only then.
import { configureLog, configureLogFromArgv, fatal } from './log';
import type { GlobalArgs } from './globals';
import { hotCommand } from './fast-path';
import { separateCommand } from './exec';
import { stdinResources } from './update';
import { phase, setPhaseRole } from '../log/phase';
import { commandIndex } from './globals';

async function main(typed: string[]): Promise<number> {
  setPhaseRole(typed[commandIndex(typed)] ?? 'cli');
  phase('cli.loaded');
  const argv = stdinResources(separateCommand(typed));
  phase('cli.argv'); // exec's command split off, update's stdin read
  const hot = hotCommand(argv);
  phase('cli.parsed'); // the fast path's yargs-parser parse
  if (!hot) return (await import('./parser')).parseAndRun(argv);
  configureLog(hot.args as unknown as GlobalArgs);
  await hot.command.handler(hot.args as never);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

const typed = process.argv.slice(2);
main(typed).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { exitCode?: number };
    // An error before the flags were parsed (a bad flag) goes to --log too.
    configureLogFromArgv(typed);
    fatal(e?.message ?? String(err));
    if (process.env.TSRUN_TRACE) fatal(e?.stack ?? '');
    process.exit(typeof e?.exitCode === 'number' ? e.exitCode : 1);
  },
);
