import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, readSync, writeSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { socketpair, recvFds } from '../../../src/sys/socket';
import { FIXTURES } from '../../helpers/paths';
import { isRoot } from '../../helpers/root';

const fixture = join(FIXTURES, 'linux', 'console.ts');
const tsx = pathToFileURL(require.resolve('tsx')).href;

// The fixture runs in a private mount namespace with its own /dev (a tmpfs
// holding a fresh devpts instance), so the host's /dev/console and ptys are
// never touched.
const privateDev = [
  'mount -t tmpfs -o mode=755 tmpfs /dev',
  'mkdir /dev/pts',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts',
  'ln -s pts/ptmx /dev/ptmx',
  'mknod -m 666 /dev/null c 1 3',
];

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Reads from the master until `want` shows up (a dead slave ends it with EIO). */
function readUntil(master: number, want: string): string {
  let text = '';
  const buf = Buffer.alloc(1024);
  while (!text.includes(want)) {
    const n = readSync(master, buf);
    if (n === 0) break;
    text += buf.toString('utf8', 0, n);
  }
  return text;
}

async function runConsole(t: Test, setup: string[], size?: { height: number; width: number }, opts?: object) {
  const [ours, theirs] = socketpair();
  const script = [...setup, `exec "$0" --import "$1" "$2" "$3" "$4"`].join(' && ');
  const args = [process.execPath, tsx, fixture, size ? JSON.stringify(size) : '', opts ? JSON.stringify(opts) : ''];
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', theirs, 'pipe'],
    env: cleanEnv(),
  });
  closeSync(theirs);
  let stderr = '';
  let report = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdio[4]!.on('data', (d: Buffer) => (report += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const { data, fds } = recvFds(ours, 64, 2);
  closeSync(ours);
  t.equal(fds.length, 1, `one descriptor received ${stderr}`);
  if (fds.length !== 1) {
    await exited;
    t.fail(`fixture failed: ${stderr}`);
    return undefined;
  }
  const master = fds[0];
  t.equal(data.toString(), '/dev/ptmx', 'payload is the master name, as runc sends');
  const greeting = readUntil(master, 'hello from the container');
  t.match(greeting, /hello from the container\r\n/, 'what the process wrote to stdout arrives at the master');
  writeSync(master, 'ping\n');
  const reply = readUntil(master, 'got:ping');
  t.match(reply, /got:ping/, 'input through the master reaches stdin, stderr is the terminal too');
  // Close the master only after the exit: a hung-up terminal sends SIGHUP
  // to its session leader.
  t.equal(await exited, 0, 'fixture exited cleanly');
  closeSync(master);
  return JSON.parse(report);
}

t.test(
  'setupConsole: pty stdio, /dev/console, session, size, master over the socket',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    const hostConsole = statSync('/dev/console');
    const r = await runConsole(t, privateDev, { height: 33, width: 101 });
    if (!r) return;
    const ptsMajor = 136;
    t.equal(r.stdio[0] >> 8, ptsMajor, 'stdin is a pts');
    t.same(r.stdio, [r.stdio[0], r.stdio[0], r.stdio[0]], 'fds 0, 1, 2 are the same pts');
    t.equal(r.consoleRdev, r.stdio[0], '/dev/console (created) is the pts, bind-mounted');
    t.equal(r.sid, r.pid, 'a new session');
    t.equal(r.ttyNr, r.stdio[0], 'the pts is the controlling terminal');
    t.same(r.winsize, { rows: 33, cols: 101 }, 'consoleSize applied');
    t.ok(r.socketClosed, 'console socket closed');
    const after = statSync('/dev/console');
    t.equal(after.ino, hostConsole.ino, "the host's /dev/console is untouched");
    t.notMatch(
      readFileSync('/proc/self/mountinfo', 'utf8'),
      / \/dev\/console /,
      'no console mount leaked to the host namespace',
    );
  },
);

t.test(
  'setupConsole over an existing /dev/console, without a size',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    const r = await runConsole(t, [...privateDev, 'touch /dev/console']);
    if (!r) return;
    t.equal(r.consoleRdev, r.stdio[0], 'existing /dev/console is covered by the pts');
    t.ok(r.winsize.rows === 0 && r.winsize.cols === 0, 'no size set');
  },
);

t.test(
  'setupConsole for exec: no /dev/console mount',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    const r = await runConsole(t, privateDev, undefined, { mountConsole: false });
    if (!r) return;
    t.equal(r.consoleRdev, null, '/dev/console not created');
    t.equal(r.ttyNr, r.stdio[0], 'still the controlling terminal');
  },
);

/** Runs the fixture on `setup`, which must make setupConsole fail with `message` before it sends anything. */
async function expectRefusal(t: Test, setup: string[], message: RegExp) {
  const [ours, theirs] = socketpair();
  const script = [...setup, `exec "$0" --import "$1" "$2"`].join(' && ');
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, tsx, fixture],
    {
      stdio: ['ignore', 'ignore', 'pipe', theirs, 'ignore'],
      env: cleanEnv(),
    },
  );
  closeSync(theirs);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const { fds } = recvFds(ours, 64, 2);
  closeSync(ours);
  t.same(fds, [], 'no master sent');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  t.not(code, 0, 'fixture failed');
  t.match(stderr, message);
}

// privateDev with /dev/ptmx left to the test.
const withoutPtmx = privateDev.filter((c) => !c.startsWith('ln -s pts/ptmx'));

t.test(
  'setupConsole refuses a /dev/console symlink',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    await expectRefusal(
      t,
      [...privateDev, 'ln -s /etc/passwd /dev/console'],
      /\/dev\/console is a symbolic link; refusing to mount the console over it/,
    );
  },
);

t.test(
  'setupConsole takes a ptmx node (5:2) as runc does',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    const r = await runConsole(t, [...withoutPtmx, 'mknod -m 666 /dev/ptmx c 5 2']);
    if (!r) return;
    t.equal(r.stdio[0] >> 8, 136, 'stdin is a pts of the devpts next to the node');
    t.equal(r.consoleRdev, r.stdio[0], '/dev/console is that pts');
  },
);

t.test(
  'setupConsole refuses a /dev/ptmx that is no pty master',
  { skip: !isRoot && 'needs root (mount namespace)' },
  async (t) => {
    await expectRefusal(t, [...withoutPtmx, 'ln -s null /dev/ptmx'], /\/dev\/ptmx is not a pseudo-terminal master/);
  },
);
