// Hands the bind sources `tsrun create` opened for the init over the sync
// socket (SCM_RIGHTS), in order, a bounded number per message.
import { closeQuiet } from '../sys/fs';
import { MAX_FDS_PER_MESSAGE, type ChildChannel, type ParentChannel } from './channel';
import { Msg } from './messages';

/** The parent's side: `fds` in config.mounts order of the plan's bindSources. */
export function sendBindSources(chan: ParentChannel, fds: number[]): void {
  for (let i = 0; i < fds.length; i += MAX_FDS_PER_MESSAGE) {
    const chunk = fds.slice(i, i + MAX_FDS_PER_MESSAGE);
    chan.sendWithFds({ type: Msg.BindSources, count: chunk.length }, chunk);
  }
}

/** The init's side: fds for the mounts `indexes` (config.mounts positions), by position. */
export function receiveBindSources(chan: ChildChannel, indexes: number[]): Map<number, number> {
  const fds: number[] = [];
  try {
    while (fds.length < indexes.length) {
      const m = chan.receive();
      if (m?.type !== Msg.BindSources)
        throw new Error(
          `bind sources: expected their descriptors, got ${m ? JSON.stringify(m.type) : 'end of stream'}`,
        );
      fds.push(...chan.takeFds(Number(m.count)));
    }
  } catch (err) {
    fds.forEach(closeQuiet);
    throw err;
  }
  return new Map(indexes.map((index, i) => [index, fds[i]]));
}
