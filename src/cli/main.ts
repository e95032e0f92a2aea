// tsrun's command line: runc's global flags and commands, one file per command.
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { configureLog, fatal } from './log';
import { UserError } from './errors';
import { DEFAULT_ROOT, type GlobalArgs } from './globals';
import { commands } from './commands';
import { OCI_VERSION } from '../spec/version';
import { version } from '../../package.json';


async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('tsrun')
    .usage('tsrun [global options] <command> [command options]')
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .option('root', { type: 'string', default: DEFAULT_ROOT, describe: 'root directory for storage of container state' })
    .option('log', { type: 'string', describe: 'log file path' })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'log format' })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'use systemd cgroup driver' })
    .option('rootless', { type: 'string', describe: 'ignore cgroup permission errors (true, false, auto)' })
    .option('criu', { type: 'string', hidden: true })
    .middleware((args) => configureLog(args as unknown as GlobalArgs))
    .strict()
    .help('help')
    .alias('help', 'h')
    .wrap(null)
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    });
  for (const c of commands) parser.command(c as CommandModule);
  const args = await parser.parseAsync();
  if (args.version && args._.length === 0) {
    process.exitCode = 0;
    (await import('./log')).out(`tsrun version ${version}\nspec: ${OCI_VERSION}\n`);
    return 0;
  }
  if (args._.length === 0) {
    (await import('./log')).out(await parser.getHelp() + '\n');
    return 0;
  }
  exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  return exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { exitCode?: number };
    fatal(e?.message ?? String(err));
    if (process.env.TSRUN_TRACE) fatal(e?.stack ?? '');
    process.exit(typeof e?.exitCode === 'number' ? e.exitCode : 1);
  },
);
