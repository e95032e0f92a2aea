import t from 'tap';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { socketpair } from '../sys/socket';
import { childChannel, parentChannel, MAX_FDS_PER_MESSAGE } from './channel';
import { Msg } from './messages';
import { receiveBindSources, sendBindSources } from './bind-sources';

t.test('messages go both ways, typed by direction; the end of the stream is undefined', async (t) => {
  const [a, b] = socketpair('stream');
  const parent = parentChannel(a);
  const child = childChannel(b);
  child.send({ type: Msg.Pid, pid: 42 });
  child.send({ type: Msg.Ready });
  t.same(parent.receive(), { type: Msg.Pid, pid: 42 });
  t.same(parent.receive(), { type: Msg.Ready }, 'two lines in one read are two messages');
  parent.send({ type: Msg.Ack });
  t.same(child.receive(), { type: Msg.Ack });
  closeSync(b);
  t.equal(parent.receive(), undefined, 'closed: undefined');
  closeSync(a);
});

t.test('a line of a type the receiving side does not take is refused, naming it', async (t) => {
  const [a, b] = socketpair('stream');
  const parent = parentChannel(a);
  const child = childChannel(b);
  // A parent's message arriving at the parent: the direction is wrong.
  writeSync(b, JSON.stringify({ type: Msg.Plan }) + '\n');
  t.throws(() => parent.receive(), { message: /^channel: unknown message from the child: \{"type":"plan"\}$/ });
  writeSync(b, '{"type":"nonsense"}\n');
  t.throws(() => parent.receive(), { message: /unknown message from the child: \{"type":"nonsense"\}/ });
  writeSync(a, 'not json\n');
  t.throws(() => child.receive(), { message: /^channel: not a message from the parent: "not json"$/ });
  closeSync(a);
  closeSync(b);
});

t.test('bind sources: descriptors in order, a bounded number per line', async (t) => {
  const [a, b] = socketpair('stream');
  const n = MAX_FDS_PER_MESSAGE + 3;
  const sources = Array.from({ length: n }, () => openSync('/proc/self/stat', 'r'));
  sendBindSources(parentChannel(a), sources);
  const indexes = Array.from({ length: n }, (_, i) => 2 * i);
  const got = receiveBindSources(childChannel(b), indexes);
  t.same([...got.keys()], indexes, 'by config.mounts position');
  const buf = Buffer.alloc(16);
  t.ok(readSync(got.get(2 * (n - 1))!, buf, 0, 16, 0) > 0, 'the last one is an open file');
  [...sources, ...got.values(), a, b].forEach((fd) => closeSync(fd));
});
