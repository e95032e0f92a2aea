import t from 'tap';
import { openSync, closeSync, readdirSync, readlinkSync } from 'node:fs';
import { isEventLoop } from './preserved-fds';

const fds = () => readdirSync('/proc/self/fd').map(Number);
const kind = (fd: number) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
};

t.test("the runtime's event loop is told from other fds", (t) => {
  // node's (libuv's) loop, like Bun's: an epoll instance with an eventfd of ours registered in it.
  const loops = fds().filter(isEventLoop);
  t.ok(loops.length >= 1, `this process's event loop found (${loops.join(', ')})`);
  for (const fd of loops) t.equal(kind(fd), 'anon_inode:[eventpoll]', `fd ${fd} is an epoll instance`);
  const file = openSync('/dev/null', 'r');
  t.teardown(() => closeSync(file));
  t.equal(isEventLoop(file), false, 'a file is not');
  t.equal(isEventLoop(0), false, 'stdin is not');
  t.equal(isEventLoop(100000), false, 'nor a closed fd');
  t.end();
});
