// The command line as users and shims type it, through the executable that
// ships. The lifecycle commands are parsed by the fast path (fast-path.ts)
// and everything else by yargs; either way the result must be the same, so
// each case below names what a user sees, whichever parser produced it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TSRUN, cleanEnv } from '../../helpers/harness';
import { hasRunc } from '../../helpers/runc';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'state');

function tsrun(args: string[]) {
  // A timeout: a parser that loops (help once did, in the executable) fails here instead of hanging the suite.
  const r = spawnSync(TSRUN, args, { encoding: 'utf8', timeout: 10000, env: cleanEnv(), input: '' });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

t.test('help lists every command and returns', async (t) => {
  const r = tsrun(['--help']);
  t.equal(r.code, 0, `exit 0 (${r.signal ?? ''} ${r.err})`);
  for (const c of [
    'create',
    'start',
    'state',
    'kill',
    'delete',
    'run',
    'list',
    'ps',
    'pause',
    'resume',
    'update',
    'events',
    'spec',
    'features',
    'checkpoint',
    'restore',
    'exec',
  ]) {
    t.match(r.out, new RegExp(`^  tsrun ${c}\\b`, 'm'), `help lists ${c}`);
  }
  t.notMatch(r.out, /^ {2}tsrun init\b/m, 'the internal init subcommand is not listed');
  const one = tsrun(['state', '--help']);
  t.equal(one.code, 0);
  t.match(one.out, /^tsrun state <id>\n/, "a command's own help");
  t.match(tsrun(['-h']).out, /Commands:/, '-h is --help');
});

// runc 1.1's command names (`runc --help`), each with its own help.
const RUNC_COMMANDS = [
  'checkpoint',
  'create',
  'delete',
  'events',
  'exec',
  'kill',
  'list',
  'pause',
  'ps',
  'restore',
  'resume',
  'run',
  'spec',
  'start',
  'state',
  'update',
  'features',
];

t.test("-h and --help after every runc command name print that command's help", async (t) => {
  for (const c of RUNC_COMMANDS) {
    for (const flag of ['-h', '--help']) {
      const r = tsrun(['--root', root, c, flag]);
      t.equal(r.code, 0, `${c} ${flag}: exit 0 (${r.err})`);
      t.match(r.out, new RegExp(`^tsrun ${c}\\b`), `${c} ${flag}: its own usage line first`);
      t.match(r.out, /^ {2}-h, --help /m, `${c} ${flag}: with its options`);
    }
    const viaHelp = tsrun(['help', c]);
    t.equal(viaHelp.code, 0, `help ${c}: exit 0`);
    t.equal(viaHelp.out, tsrun([c, '--help']).out, `help ${c} is ${c} --help (runc's help command)`);
  }
  t.equal(tsrun(['help']).out, tsrun(['--help']).out, 'help alone is --help');
  t.equal(tsrun(['h', 'state']).out, tsrun(['state', '--help']).out, 'h is help');
});

t.test('checkpoint and restore: known, and not supported', async (t) => {
  for (const c of ['checkpoint', 'restore']) {
    const help = tsrun([c, '--help']);
    t.match(help.out, /\(not supported by tsrun\)/, `${c} --help: says it is not supported`);
    t.match(
      help.out,
      /^Not supported: tsrun does not implement checkpoint\/restore with CRIU\.$/m,
      `${c} --help: and why`,
    );
    // With runc's flags, so a caller sees why rather than "Unknown argument".
    const flags =
      c === 'checkpoint'
        ? ['--image-path', join(dir, 'img'), '--leave-running']
        : ['--image-path', join(dir, 'img'), '-b', dir, '-d'];
    for (const args of [[c, ...flags, 'c1'], [c, 'c1'], [c]]) {
      const r = tsrun(['--root', root, ...args]);
      t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
      t.equal(
        r.err,
        `tsrun: ${c} is not supported: tsrun does not implement checkpoint/restore with CRIU\n`,
        `${args.join(' ')}: says so`,
      );
    }
  }
});

t.test('a word that names no command', async (t) => {
  for (const args of [['foo'], ['foo', '-h'], ['foo', '--help'], ['help', 'foo'], ['--root', root, 'foo', 'c1']]) {
    const r = tsrun(args);
    t.equal(r.code, 3, `${args.join(' ')}: exit 3, as runc`);
    t.equal(
      r.err,
      'tsrun: No help topic for \'foo\': command "foo" does not exist (tsrun --help lists the commands)\n',
      `${args.join(' ')}: runc's words, then names the word`,
    );
    t.equal(r.out, '', `${args.join(' ')}: no help on stdout`);
    if (!hasRunc) continue;
    const runc = spawnSync('runc', args, { encoding: 'utf8', timeout: 10000, input: '' });
    t.equal(runc.status, 3, `runc ${args.join(' ')}: exit 3`);
    t.match(runc.stderr, /No help topic for 'foo'/, `runc ${args.join(' ')}: the same words`);
  }
  // Global flags come first and win, as with runc.
  t.match(tsrun(['--help', 'foo']).out, /^Commands:$/m, '--help foo: the global help');
  t.match(tsrun(['-v', 'foo']).out, /^tsrun version /, '-v foo: the version');
  t.match(tsrun(['init', '-h']).err, /init is internal/, 'init is not a user command');
});

t.test('--version and -v', async (t) => {
  for (const flag of ['--version', '-v']) {
    const r = tsrun([flag]);
    t.equal(r.code, 0);
    t.match(
      r.out,
      /^tsrun version \d+\.\d+\.\d+\ncommit: ([0-9a-f]{40}|unknown)\nspec: 1\.\d+\.\d+\n$/,
      `${flag} prints the version in runc's layout`,
    );
  }
});

t.test('the lifecycle commands: arguments as typed', async (t) => {
  const cases: [string[], number, RegExp, string][] = [
    [['--root', root, 'state', '123'], 1, /^tsrun: container does not exist: 123\n$/, 'a numeric id stays a word'],
    [[`--root=${root}`, 'state', 'c1'], 1, /container does not exist: c1/, '--root=DIR'],
    [
      ['--root', root, '--debug', '--log-format', 'json', 'state', 'c1'],
      1,
      /container does not exist: c1/,
      'global flags before the command',
    ],
    [['--root', root, 'state'], 1, /Not enough non-option arguments: got 0, need at least 1/, 'missing id'],
    [['--root', root, 'state', 'a', 'b'], 1, /Unknown argument: b/, 'an extra word'],
    [['--root', root, 'state', '--bogus', 'c1'], 1, /Unknown argument|Not enough non-option/, 'an unknown flag'],
    [
      ['--root', root, '--log-format', 'xml', 'state', 'c1'],
      1,
      /Invalid values:\s+Argument: log-format, Given: "xml", Choices: "text", "json"/,
      'a bad choice',
    ],
    [['--root', root, 'kill', 'c1', 'KILL'], 1, /container does not exist: c1/, 'kill ID SIGNAL'],
    [['--root', root, 'kill', '-a', 'c1'], 1, /container does not exist: c1/, 'kill -a'],
    [['--root', root, 'kill', 'c1', 'TERM', 'x'], 1, /Unknown argument: x/, 'kill with an extra word'],
    [['--root', root, 'delete', 'c1'], 1, /container does not exist: c1/, 'delete of a missing container'],
    [['--root', root, 'delete', '-f', 'c1'], 0, /^$/, 'delete --force of a missing container is not an error'],
    [['--root', root, 'delete', '--force', 'c1'], 0, /^$/, 'delete --force, long form'],
    [['--root', root, 'start', 'c1'], 1, /container does not exist: c1/, 'start'],
    [
      ['--root', root, 'create', '--bundle', dir, '-b', '/nonexistent', 'c1'],
      1,
      /^tsrun: bundle \/nonexistent: does not exist\n$/,
      'create: a flag given twice takes its last value',
    ],
    [
      ['--root', root, 'run', '-d', '--keep', '-b', '/nonexistent', 'c1'],
      1,
      /^tsrun: bundle \/nonexistent: does not exist\n$/,
      'run with its own flags',
    ],
    [
      ['--root', root, 'run', '--detach=false', '-b', '/nonexistent'],
      1,
      /Not enough non-option arguments/,
      'run without an id',
    ],
    [
      ['--root', root, 'stat', 'c1'],
      3,
      /^tsrun: No help topic for 'stat': command "stat" does not exist \(tsrun --help lists the commands\)\n$/,
      'an unknown command',
    ],
    [
      ['--root', root, 'create', '--no-pivot', '--no-new-keyring', '-b', '/nonexistent', 'c1'],
      1,
      /^tsrun: bundle \/nonexistent: does not exist\n$/,
      '--no-pivot and --no-new-keyring are flags, not negations',
    ],
    [
      ['--root', root, 'run', '--no-subreaper', '-d', '-b', '/nonexistent', 'c1'],
      1,
      /^tsrun: bundle \/nonexistent: does not exist\n$/,
      "run's --no-subreaper",
    ],
    [['--root', root, 'kill', 'c1', '0'], 1, /container does not exist: c1/, 'kill ID 0 is a signal'],
  ];
  for (const [args, code, pattern, what] of cases) {
    const r = tsrun(args);
    t.equal(r.code, code, `${what}: exit ${code}`);
    t.match(r.err, pattern, `${what}: ${args.join(' ')}`);
  }
});

t.test('output larger than a pipe reaches a slow reader whole', async (t) => {
  // process.exit after an asynchronous write to a full pipe drops what is
  // still queued (node and Bun alike, at 64 KiB); tsrun writes with a
  // writeSync loop. A profile whose BPF listing is far larger than a pipe:
  const syscalls = (
    JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8')).syscalls as { names: string[] }[]
  ).flatMap((s) => s.names);
  const profile = join(dir, 'big-profile.json');
  writeFileSync(
    profile,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [...new Set(syscalls)].flatMap((name, i) =>
        [0, 1].map((k) => ({
          names: [name],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: k, value: i, op: 'SCMP_CMP_EQ' }],
        })),
      ),
    }),
  );
  const whole = tsrun(['seccomp', 'dump', profile]);
  t.equal(whole.code, 0, whole.err);
  const size = Buffer.byteLength(whole.out);
  t.ok(size > 65536 * 1.5, `the listing is ${size} bytes`);
  const slow = spawnSync('sh', ['-c', '"$0" seccomp dump "$1" | (sleep 0.5; wc -c)', TSRUN, profile], {
    encoding: 'utf8',
    timeout: 20000,
    env: cleanEnv(),
  });
  t.equal(Number(slow.stdout.trim()), size, 'a reader that starts late gets every byte');
});

t.test('errors of the lifecycle commands reach --log', async (t) => {
  const log = join(dir, 'log.json');
  const r = tsrun(['--root', root, '--log', log, '--log-format', 'json', 'state', 'gone']);
  t.equal(r.code, 1);
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.match(lines.at(-1), { level: 'error', msg: 'container does not exist: gone' }, "the error, in runc's JSON form");
  t.match(lines.at(-1).time, /^\d{4}-\d\d-\d\dT/, 'with its time');
});
