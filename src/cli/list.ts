import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { out } from './log';

interface ListArgs extends GlobalArgs {
  format: string;
  quiet: boolean;
}

/** Go's tabwriter as runc configures it: min width 12, padding 3, spaces. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(12, ...rows.map((r) => r[i].length + 3)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('') + '\n')
    .join('');
}

export const list: CommandModule<GlobalArgs, ListArgs> = {
  command: 'list',
  aliases: ['ls'],
  describe: 'lists containers started by tsrun with the given root',
  builder: (y) =>
    y
      .option('format', {
        alias: 'f',
        type: 'string',
        default: 'table',
        choices: ['table', 'json'],
        describe: 'select one of: table or json',
      })
      .option('quiet', {
        alias: 'q',
        type: 'boolean',
        default: false,
        describe: 'display only container IDs',
      }) as never,
  handler: async (args) => {
    const { listContainers } = await import('../runtime/list');
    const entries = listContainers(args.root);
    if (args.quiet) {
      out(entries.map((e) => `${e.id}\n`).join(''));
    } else if (args.format === 'json') {
      out(
        JSON.stringify(
          entries.length
            ? entries.map(({ ociVersion, id, pid, status, bundle, rootfs, created, annotations, owner }) => ({
                ociVersion,
                id,
                pid,
                status,
                bundle,
                rootfs,
                created,
                annotations,
                owner,
              }))
            : null,
        ) + '\n',
      );
    } else {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
      for (const e of entries)
        rows.push([
          String(e.id),
          String(e.pid),
          String(e.status),
          String(e.bundle),
          String(e.created),
          String(e.owner),
        ]);
      out(table(rows));
    }
  },
};
