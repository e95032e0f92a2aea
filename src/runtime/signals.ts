import { constants } from 'node:os';
import { InvalidInputError } from '../errors';

const byName = constants.signals as Record<string, number>;

/** runc's signal syntax: "KILL", "SIGKILL", "9"; 0 only asks whether the process exists. */
export function parseSignal(text: string | undefined): number {
  if (text === undefined || text === '') return byName.SIGTERM;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= 64) return n;
  } else {
    const upper = text.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (byName[name] !== undefined) return byName[name];
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw new InvalidInputError(`unknown signal "${text}"`);
}

/** The signals a foreground run or exec passes on to its process (runc's set, as far as node can catch them). */
export const FORWARDED: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGALRM',
  'SIGPIPE',
];
