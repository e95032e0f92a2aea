import type { CommandModule } from 'yargs';
import type { GlobalArgs } from './globals';
import { out } from './log';

interface EventsArgs extends GlobalArgs {
  id: string;
  interval: string;
  stats: boolean;
}

export const events: CommandModule<GlobalArgs, EventsArgs> = {
  command: 'events <id>',
  describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  builder: (y) =>
    y
      .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
      .option('stats', {
        type: 'boolean',
        default: false,
        describe: "display the container's stats then exit",
      }) as never,
  handler: async (args) => {
    const { parseDuration, streamEvents, eventLine } = await import('../runtime/events');
    await streamEvents(args.root, args.id, { intervalMs: parseDuration(args.interval), statsOnly: args.stats }, (e) =>
      out(eventLine(e.type, e.id, e.data)),
    );
  },
};
