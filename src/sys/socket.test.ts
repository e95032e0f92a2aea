import t from 'tap';
import {
  readdirSync,
  readFileSync,
  writeFileSync,
  mkdtempSync,
  rmSync,
  closeSync,
  readSync,
  writeSync,
  openSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketpair, sendFds, recvFds, connectUnix } from './socket';

t.test('sendFds/recvFds round-trip a payload and descriptors over a socketpair', async (t) => {
  for (const type of ['stream', 'seqpacket'] as const) {
    const [a, b] = socketpair(type);
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-sock-'));
    const f1 = join(dir, 'one');
    const f2 = join(dir, 'two');
    writeFileSync(f1, 'first');
    writeFileSync(f2, 'second');
    const fd1 = openSync(f1, 'r');
    const fd2 = openSync(f2, 'r');
    sendFds(a, Buffer.from('hello'), [fd1, fd2]);
    const { data, fds } = recvFds(b, 64, 4);
    t.equal(data.toString(), 'hello', `${type}: payload`);
    t.equal(fds.length, 2, `${type}: two fds`);
    t.not(fds[0], fd1, `${type}: new descriptor numbers`);
    const buf = Buffer.alloc(16);
    t.equal(buf.toString('utf8', 0, readSync(fds[0], buf, 0, 16, 0)), 'first', `${type}: fd 1 is the first file`);
    t.equal(buf.toString('utf8', 0, readSync(fds[1], buf, 0, 16, 0)), 'second', `${type}: fd 2 is the second file`);
    // Received close-on-exec.
    const flags = readFileSync(`/proc/self/fdinfo/${fds[0]}`, 'utf8').match(/flags:\s+(\d+)/)![1];
    t.ok(parseInt(flags, 8) & 0o2000000, `${type}: received fd is O_CLOEXEC`);
    [fd1, fd2, ...fds, a, b].forEach((fd) => closeSync(fd));
    rmSync(dir, { recursive: true });
  }
});

t.test('an empty payload still carries the descriptors', async (t) => {
  const [a, b] = socketpair();
  const [x, y] = socketpair();
  sendFds(a, Buffer.alloc(0), [x]);
  const { data, fds } = recvFds(b, 8, 1);
  t.equal(data.length, 1);
  t.equal(fds.length, 1);
  writeSync(fds[0], 'via-passed');
  const buf = Buffer.alloc(32);
  t.equal(buf.toString('utf8', 0, readSync(y, buf)), 'via-passed');
  [a, b, x, y, fds[0]].forEach((fd) => closeSync(fd));
});

t.test('plain data without descriptors, and EOF', async (t) => {
  const [a, b] = socketpair();
  sendFds(a, Buffer.from('just data'), []);
  const r = recvFds(b, 64, 2);
  t.equal(r.data.toString(), 'just data');
  t.same(r.fds, []);
  closeSync(a);
  t.equal(recvFds(b, 64, 2).data.length, 0, 'peer closed → empty data');
  closeSync(b);
});

t.test('too many descriptors: error and nothing leaked', async (t) => {
  const [a, b] = socketpair();
  const [x, y] = socketpair();
  sendFds(a, Buffer.from('m'), [x, y, x]);
  const before = readdirSync('/proc/self/fd').length;
  t.throws(() => recvFds(b, 8, 1), /recvmsg\(fd \d+: more than 1 descriptors sent\): ENOBUFS/);
  t.equal(readdirSync('/proc/self/fd').length, before, 'the descriptor that did arrive was closed');
  [a, b, x, y].forEach((fd) => closeSync(fd));
});

t.test('connectUnix reaches a listening socket and names the path on failure', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-sock-'));
  const path = join(dir, 'console.sock');
  const got = new Promise<string>((resolve) => {
    const server = createServer((c) => {
      c.on('data', (d) => {
        resolve(d.toString());
        c.destroy();
        server.close();
      });
    });
    server.listen(path);
  });
  await new Promise((r) => setTimeout(r, 50));
  const fd = connectUnix(path);
  sendFds(fd, Buffer.from('ping'), []);
  t.equal(await got, 'ping');
  closeSync(fd);
  t.throws(() => connectUnix(join(dir, 'missing.sock')), { message: `connect(${join(dir, 'missing.sock')}): ENOENT` });
  t.throws(() => connectUnix('/' + 'x'.repeat(200)), /longer than 107 bytes/);
  rmSync(dir, { recursive: true });
});
