// Every error, warning and --debug line reaches --log, in runc's two
// formats, whatever raised it: the command line before it was parsed, the
// bundle, a hook, the native helper, the container init, exec's process.
// containerd's shim reads the last "error" line of the JSON log to tell its
// clients why a command failed, so each failing case checks that this line
// is exactly what tsrun printed on stderr.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, type Env } from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';

type Format = 'json' | 'text';
interface Line {
  level: string;
  msg: string;
  time: string;
  fields: Record<string, string>;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const LEVELS = ['debug', 'info', 'warning', 'error'];
// logrus's text line: time, level, msg, then sorted key=value fields; values quoted (Go %q) unless bare.
const VALUE = String.raw`(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9\-._/@^+]*)`;
const TEXT_LINE = new RegExp(`^time=(${VALUE}) level=(\\w+) msg=(${VALUE})((?: [a-z]+=${VALUE})*)$`);
const unquote = (v: string) => (v.startsWith('"') ? (JSON.parse(v) as string) : v);

/** Every line of a log file, checked to be a well-formed line of `format`. */
function readLog(t: Test, file: string, format: Format): Line[] {
  if (!existsSync(file)) {
    t.fail(`${file} was not written`);
    return [];
  }
  const text = readFileSync(file, 'utf8');
  t.ok(text.endsWith('\n'), 'the log ends with a complete line');
  return text
    .split('\n')
    .filter(Boolean)
    .map((raw) => {
      const line = format === 'json' ? jsonLine(t, raw) : textLine(t, raw);
      t.ok(TIME.test(line.time), `RFC 3339 time to the second: ${line.time}`);
      t.ok(LEVELS.includes(line.level), `a logrus level: ${line.level}`);
      return line;
    });
}

function jsonLine(t: Test, raw: string): Line {
  let o: Record<string, string> = {};
  try {
    o = JSON.parse(raw) as Record<string, string>;
  } catch {
    t.fail(`not a JSON line: ${raw}`);
  }
  t.same(Object.keys(o), Object.keys(o).sort(), `keys in logrus's (sorted) order: ${raw}`);
  const { level, msg, time, ...fields } = o;
  t.ok(typeof msg === 'string', `msg is a string: ${raw}`);
  return { level, msg, time, fields };
}

function textLine(t: Test, raw: string): Line {
  const m = TEXT_LINE.exec(raw);
  if (!m) {
    t.fail(`not a logrus text line: ${raw}`);
    return { level: '', msg: '', time: '', fields: {} };
  }
  const fields = Object.fromEntries(
    [...m[4].matchAll(new RegExp(` ([a-z]+)=(${VALUE})`, 'g'))].map(([, k, v]) => [k, unquote(v)]),
  );
  return { time: unquote(m[1]), level: m[2], msg: unquote(m[3]), fields };
}

const logFlags = (file: string, format: Format) => ['--log', file, '--log-format', format];

/** The error tsrun printed (`tsrun: msg` on stderr) must be the log's last error line. */
function lastErrorIsStderr(t: Test, lines: Line[], stderr: string, pattern: RegExp): void {
  const errors = lines.filter((l) => l.level === 'error');
  t.ok(errors.length > 0, 'an error line in the log');
  const said = /(?:^|\n)tsrun: ([^]*)\n$/.exec(stderr)?.[1];
  t.equal(errors.at(-1)?.msg, said, "the log's last error is the message on stderr");
  t.match(errors.at(-1)?.msg, pattern, 'and it says why');
}

interface Failure {
  name: string;
  /** The command (after the log flags); the container id is last where there is one. */
  args: (env: Env, id: string) => string[];
  /** Run first, without --log: the container a command works on. */
  before?: (env: Env, id: string) => void;
  why: RegExp;
}

const bundleOf = (env: Env, edit: (c: Spec) => void, id = 'x'): string => {
  const c = testConfig(id, ['true']);
  edit(c);
  return env.bundle(c);
};

const FAILURES: Failure[] = [
  { name: 'an unknown global flag', args: (env, id) => ['--bogus', 'create', '-b', env.dir, id], why: /bogus/ },
  { name: 'an unknown command flag', args: (env, id) => ['create', '--bogus', '-b', env.dir, id], why: /bogus/ },
  { name: 'a missing container id', args: (env) => ['create', '-b', env.dir], why: /arguments/ },
  { name: 'an unknown command', args: () => ['nosuchcommand'], why: /nosuchcommand/ },
  {
    name: 'a missing bundle',
    args: (env, id) => ['create', '-b', join(env.dir, 'missing'), id],
    why: /missing: does not exist/,
  },
  {
    name: 'a config.json that is not JSON',
    args: (env, id) => {
      const b = bundleOf(env, () => {});
      writeFileSync(join(b, 'config.json'), '{"ociVersion": ');
      return ['create', '-b', b, id];
    },
    why: /config\.json: not valid JSON/,
  },
  {
    name: 'a failing prestart hook',
    args: (env, id) => [
      'create',
      '-b',
      bundleOf(
        env,
        (c) => (c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo the-hook-says-no >&2; exit 3'] }] }),
      ),
      id,
    ],
    why: /^error running hook: prestart hook 0 \(\/bin\/sh\): exited with status 3: the-hook-says-no$/,
  },
  {
    name: 'a network namespace path that does not exist',
    args: (env, id) => [
      'create',
      '-b',
      bundleOf(
        env,
        (c) =>
          (c.linux!.namespaces = c.linux!.namespaces!.map((n) =>
            n.type === 'network' ? { type: 'network', path: '/nonexistent/netns' } : n,
          )),
      ),
      id,
    ],
    why: /\/linux\/namespaces\/\d+\/path: .*\/nonexistent\/netns/,
  },
  {
    // Joining the user namespace one is already in: setns(2) refuses with EINVAL in the native helper.
    name: 'a native helper failure',
    args: (env, id) => [
      'create',
      '-b',
      bundleOf(env, (c) => c.linux!.namespaces!.push({ type: 'user', path: '/proc/self/ns/user' })),
      id,
    ],
    why: /setns\(user\): EINVAL/,
  },
  {
    name: 'an error raised in the container init',
    args: (env, id) => ['create', '-b', bundleOf(env, (c) => (c.process!.args = ['/no/such/program'])), id],
    why: /no\/such\/program/,
  },
  {
    name: 'a failing startContainer hook (reported by start)',
    before: (env, id) => {
      const b = bundleOf(env, (c) => (c.hooks = { startContainer: [{ path: '/bin/false' }] }), id);
      env.run(['create', '-b', b, id], { output: join(env.dir, `${id}.out`) });
    },
    args: (_env, id) => ['start', id],
    why: /startContainer hook 0 \(\/bin\/false\): exited with status 1/,
  },
  {
    name: 'a failing poststart hook (reported by start)',
    before: (env, id) => {
      const b = bundleOf(env, (c) => (c.hooks = { poststart: [{ path: '/bin/false' }] }), id);
      env.run(['create', '-b', b, id], { output: join(env.dir, `${id}.out`) });
    },
    args: (_env, id) => ['start', id],
    why: /^error running hook: poststart hook 0 \(\/bin\/false\): exited with status 1; the container was stopped$/,
  },
  {
    // /dev/shm is noexec: the exec'd process fails at execve, after it said "ready".
    name: "exec's process failing at execve",
    before: (env, id) => {
      const b = bundleOf(env, (c) => (c.process!.args = ['sleep', '60']), id);
      env.run(['run', '-d', '-b', b, id], { output: join(env.dir, `${id}.out`) });
      env.run(['exec', id, 'sh', '-c', 'printf "\\001\\002" >/dev/shm/bad && chmod +x /dev/shm/bad']);
    },
    args: (_env, id) => ['exec', id, '/dev/shm/bad'],
    why: /execve\(\/dev\/shm\/bad\): EACCES/,
  },
  { name: 'a bad signal', args: (_env, id) => ['kill', id, 'SIGNOPE'], why: /SIGNOPE/ },
];

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  for (const f of FAILURES) {
    for (const format of ['json', 'text'] as const) {
      t.test(`${f.name}: ${format}`, async (t) => {
        const env = testEnv(t);
        const id = uniqueId('log');
        f.before?.(env, id);
        const file = join(env.dir, 'log');
        const r = env.run([...logFlags(file, format), ...f.args(env, id)], { output: join(env.dir, 'out') });
        t.not(r.code, 0, 'the command fails');
        lastErrorIsStderr(t, readLog(t, file, format), r.stderr, f.why);
        env.run(['delete', '--force', id]);
        env.done();
      });
    }
  }

  t.test('a bad --log-format still reaches the log, as text', async (t) => {
    const env = testEnv(t);
    const file = join(env.dir, 'log');
    const r = env.run(['--log', file, '--log-format', 'xml', 'state', 'none']);
    t.equal(r.code, 1);
    lastErrorIsStderr(t, readLog(t, file, 'text'), r.stderr, /log-format.*xml/);
  });

  t.test('a --log that cannot be opened is named on stderr', async (t) => {
    const env = testEnv(t);
    const r = env.run(['--log', join(env.dir, 'no', 'dir', 'log'), 'state', 'none']);
    t.equal(r.code, 1);
    t.match(r.stderr, /^tsrun: --log .*\/no\/dir\/log: cannot open: ENOENT\n$/);
  });

  t.test('warnings: to --log, and to stderr without it', async (t) => {
    const env = testEnv(t);
    const b = bundleOf(env, (c) => c.mounts!.push({ destination: 'relative/dir', type: 'tmpfs', source: 'tmpfs' }));
    for (const format of ['json', 'text'] as const) {
      const file = join(env.dir, `log.${format}`);
      const id = uniqueId('warn');
      const r = env.run([...logFlags(file, format), 'create', '-b', b, id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `create: ${r.stderr}`);
      const warnings = readLog(t, file, format).filter((l) => l.level === 'warning');
      t.match(
        warnings.map((l) => l.msg),
        [/relative path "relative\/dir" is deprecated/],
        `${format}: the warning`,
      );
      t.equal(env.run(['delete', id]).code, 0);
    }
    const id = uniqueId('warn');
    const r = env.run(['create', '-b', b, id], { output: join(env.dir, `${id}.out`) });
    t.match(
      r.stderr,
      /^time="[^"]+" level=warning msg="[^"]*relative path \\"relative\/dir\\" is deprecated/m,
      'without --log: a logrus line on stderr',
    );
    t.equal(env.run(['delete', id]).code, 0);
    env.done();
  });

  // The main steps, from each process that takes them: the command, the
  // container init (before and after start), exec's process, hooks.
  const STEPS: [RegExp, string?][] = [
    [/^container init started$/, 'pid'],
    [/^init: setting up the root filesystem$/],
    [/^running createContainer hook 0 \(\/bin\/true\)$/],
    [/^init: ready, waiting for start$/],
    [/^container log-\S+ created$/],
    [/^start: releasing the container init$/, 'pid'],
    [/^running startContainer hook 0 \(\/bin\/true\)$/],
    [/^init: about to exec \/bin\/sleep$/],
    [/^exec: process started$/, 'pid'],
    [/^exec: about to exec \/bin\/true$/],
    [/^process exited$/, 'status'],
    [/^kill: signal 9 to the container init$/, 'pid'],
    [/^removing /],
  ];

  for (const format of ['json', 'text'] as const) {
    t.test(`--debug: the main steps, in order (${format})`, async (t) => {
      const env = testEnv(t);
      const id = uniqueId('log');
      const hook = { path: '/bin/true' };
      const b = bundleOf(
        env,
        (c) => ((c.process!.args = ['sleep', '60']), (c.hooks = { createContainer: [hook], startContainer: [hook] })),
        id,
      );
      const file = join(env.dir, 'log');
      const run = (args: string[]) =>
        env.run(['--debug', ...logFlags(file, format), ...args], { output: join(env.dir, `${args[0]}.out`) });
      t.equal(run(['create', '-b', b, id]).code, 0, 'create');
      t.equal(run(['start', id]).code, 0, 'start');
      t.equal(run(['exec', id, 'true']).code, 0, 'exec');
      t.equal(run(['kill', id, 'KILL']).code, 0, 'kill');
      t.equal(run(['delete', '--force', id]).code, 0, 'delete');
      const lines = readLog(t, file, format).filter((l) => l.level === 'debug');
      let at = -1;
      for (const [step, field] of STEPS) {
        const i = lines.findIndex((l, n) => n > at && step.test(l.msg));
        t.ok(i > at, `debug line ${step}, after the previous step`);
        if (field) t.match(lines[i]?.fields[field], /^\d+$/, `with its ${field}`);
        if (i > at) at = i;
      }
      env.done();
    });
  }

  t.test('--debug without --log: debug lines on stderr; none without --debug', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('log');
    const b = bundleOf(env, () => {}, id);
    const r = env.run(['--debug', 'run', '-b', b, id], { output: join(env.dir, 'out') });
    t.equal(r.code, 0, r.stderr);
    t.match(
      r.stderr,
      /^time="[^"]+" level=debug msg="init: ready, waiting for start"$/m,
      "the init's line, on the caller's stderr",
    );
    t.match(
      r.stderr,
      /^time="[^"]+" level=debug msg="process exited" pid=\d+ status=0$/m,
      'the exit, as runc words it',
    );
    const quiet = env.run(['run', '-b', b, uniqueId('log')], { output: join(env.dir, 'quiet') });
    t.equal(quiet.code, 0);
    t.notMatch(quiet.stderr, /level=/, 'no log lines');
    env.done();
  });
}
