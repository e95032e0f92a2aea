// Hands the bind sources `tsrun create` opened for the init over the sync
// socket (SCM_RIGHTS), in order, a bounded number per message.
import { closeQuiet } from '../sys/fs';
import type { BindSource } from '../linux/bind-sources';
import { MAX_FDS_PER_MESSAGE, type Channel } from './channel';

export function sendBindSources(chan: Channel, sources: BindSource[]): void {
  for (let i = 0; i < sources.length; i += MAX_FDS_PER_MESSAGE) {
    const chunk = sources.slice(i, i + MAX_FDS_PER_MESSAGE);
    chan.sendWithFds({ type: 'bindsources', count: chunk.length }, chunk.map((s) => s.fd));
  }
}

/** The init's side: fds for the mounts `indexes` (config.mounts positions), by position. */
export function receiveBindSources(chan: Channel, indexes: number[]): Map<number, number> {
  const fds: number[] = [];
  try {
    while (fds.length < indexes.length) {
      const m = chan.receive();
      if (!m || m.type !== 'bindsources') throw new Error(`bind sources: expected their descriptors, got ${m ? JSON.stringify(m.type) : 'end of stream'}`);
      fds.push(...chan.takeFds(Number(m.count)));
    }
  } catch (err) {
    fds.forEach(closeQuiet);
    throw err;
  }
  return new Map(indexes.map((index, i) => [index, fds[i]]));
}
