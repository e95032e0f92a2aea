// create → start → state → kill → delete on real containers, checked from
// outside (state JSON, pid file, exit codes, cleanup) and from inside.
import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, parseState, waitStatus } from '../../helpers/harness';

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('create, start, state, delete', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('life');
    const out = join(env.dir, 'out');
    const bundle = env.bundle(testConfig(id, ['sh', '-c', 'echo started; sleep 0.3']));
    const pidFile = join(env.dir, 'pid');

    const c = env.run(['create', '--bundle', bundle, '--pid-file', pidFile, id], { output: out });
    t.equal(c.code, 0, `create succeeds: ${c.stderr}`);
    const created = parseState(env.run(['state', id]));
    t.equal(created.status, 'created');
    t.equal(created.id, id);
    t.equal(created.bundle, bundle);
    t.equal(created.ociVersion, '1.3.0');
    t.ok(Number(created.pid) > 0, 'pid is set');
    t.equal(readFileSync(pidFile, 'utf8'), String(created.pid), 'pid file holds the init pid');
    t.ok(existsSync(`/proc/${created.pid}`), 'init process exists');
    t.equal(readFileSync(out, 'utf8'), '', 'the program has not run before start');

    const again = env.run(['create', '--bundle', bundle, id], { output: join(env.dir, 'out2') });
    t.equal(again.code, 1, 'a duplicate id is refused');
    t.match(again.stderr, /container with id exists/);

    t.equal(env.run(['start', id]).code, 0, 'start succeeds');
    const second = env.run(['start', id]);
    t.not(second.code, 0, 'start on a running or stopped container fails');

    const stopped = waitStatus(env, id, 'stopped');
    t.equal(stopped.status, 'stopped', 'container stops when its program exits');
    t.equal(stopped.pid, 0, 'stopped containers report pid 0 like runc');
    t.equal(readFileSync(out, 'utf8'), 'started\n', 'program ran with the create stdio');
    t.not(env.run(['kill', id, 'KILL']).code, 0, 'kill on a stopped container fails');

    t.equal(env.run(['delete', id]).code, 0, 'delete succeeds');
    t.not(env.run(['state', id]).code, 0, 'state after delete fails');
    t.match(env.run(['state', id]).stderr, /does not exist/);
    env.done();
  });

  t.test("run --no-pivot --no-new-keyring: runc's flags reach the container", async (t) => {
    const env = testEnv(t);
    const id = uniqueId('nopivot');
    const out = join(env.dir, 'nopivot.out');
    // Without pivot_root the old root stays reachable in the mount table;
    // without a new keyring the session keyring is not _ses.<id>.
    const r = env.run(
      [
        'run',
        '--no-pivot',
        '--no-new-keyring',
        '-b',
        env.bundle(
          testConfig(id, [
            'sh',
            '-c',
            'grep -c " / " /proc/self/mountinfo; cat /proc/keys 2>/dev/null | grep -c "_ses\\.' + id + '" || true',
          ]),
        ),
        id,
      ],
      { output: out },
    );
    const text = readFileSync(out, 'utf8');
    t.equal(r.code, 0, text);
    t.match(text, /^0\n?$/m, 'no session keyring named after the container');
    env.done();
  });

  t.test('kill, delete refusal and delete --force', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('kill');
    const bundle = env.bundle(testConfig(id, ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.05; done']));
    t.equal(
      env.run(['run', '--detach', '--bundle', bundle, id], { output: join(env.dir, 'out') }).code,
      0,
      'run --detach',
    );
    const st = waitStatus(env, id, 'running');
    t.equal(st.status, 'running');
    const refused = env.run(['delete', id]);
    t.equal(refused.code, 1, 'delete of a running container fails');
    t.match(refused.stderr, /not stopped/);
    t.equal(parseState(env.run(['state', id])).status, 'running', 'the refused delete had no effect');

    t.equal(env.run(['kill', id, '0']).code, 0, 'kill ID 0: the container is there');
    t.equal(parseState(env.run(['state', id])).status, 'running', 'and signal 0 did nothing to it');
    t.equal(env.run(['kill', id]).code, 0, 'kill with the default SIGTERM');
    t.equal(waitStatus(env, id, 'stopped').status, 'stopped', 'SIGTERM handled by the program stops it');
    const gone = env.run(['kill', id, '0']);
    t.equal(gone.code, 1, 'kill ID 0 of a stopped container fails');
    t.match(gone.stderr, /container not running/);
    t.equal(env.run(['delete', id]).code, 0);

    const id2 = uniqueId('force');
    const b2 = env.bundle(testConfig(id2, ['sleep', '1000']));
    t.equal(env.run(['run', '-d', '-b', b2, id2], { output: join(env.dir, 'out2') }).code, 0);
    const pid = Number(waitStatus(env, id2, 'running').pid);
    t.equal(env.run(['kill', id2, 'SIGBOGUS']).code, 1, 'unknown signal is an error');
    t.equal(env.run(['delete', '--force', id2]).code, 0, 'delete --force kills and deletes');
    t.notOk(
      existsSync(`/proc/${pid}/stat`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'),
      'process is gone',
    );
    t.equal(env.run(['delete', '--force', id2]).code, 0, 'delete --force of a missing container succeeds like runc');
    env.done();
  });

  t.test('a config without process: create succeeds, start refuses, exec and delete work', async (t) => {
    // config.md#process: "This property is REQUIRED when start is called" (runtime-tools' start test).
    const env = testEnv(t);
    const id = uniqueId('noproc');
    const config = testConfig(id, ['true']);
    delete config.process;
    const bundle = env.bundle(config);
    let r = env.run(['create', '-b', bundle, id], { output: join(env.dir, `${id}.out`) });
    t.equal(r.code, 0, `create: ${r.stderr}`);
    const pid = Number(parseState(env.run(['state', id])).pid);
    t.equal(parseState(env.run(['state', id])).status, 'created');
    r = env.run(['start', id]);
    t.equal(r.code, 1, 'start fails');
    t.match(r.stderr, /config\.json: \/process: required when start is called/);
    t.equal(parseState(env.run(['state', id])).status, 'created', 'still created');
    r = env.run(['exec', id, '/bin/sh', '-c', 'echo in $(cat /proc/1/comm)']);
    t.equal(r.code, 0, `exec: ${r.stderr}`);
    t.equal(r.stdout, 'in tsrun\n', 'exec joins the waiting init');
    t.equal(env.run(['delete', id]).code, 0, 'delete of the created container');
    const gone = () => {
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); // a zombie left to its reaper
      } catch {
        return true;
      }
    };
    t.ok(gone(), 'the init is gone');
    r = env.run(['run', '-b', bundle, uniqueId('noproc')]);
    t.equal(r.code, 1, 'run fails at its start');
    t.match(r.stderr, /\/process: required when start is called/);
    env.done();
  });

  t.test('run in the foreground returns the exit status', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('exit');
    const r = env.run(['run', '-b', env.bundle(testConfig(id, ['sh', '-c', 'exit 3'])), id], {
      output: join(env.dir, 'out'),
    });
    t.equal(r.code, 3, 'exit code of the program');
    env.done();
  });

  t.test('list', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('list');
    t.equal(
      env.run(['create', '-b', env.bundle(testConfig(id, ['true'])), id], { output: join(env.dir, 'out') }).code,
      0,
    );
    const table = env.run(['list']).stdout;
    t.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);
    t.match(table, new RegExp(`${id}\\s+\\d+\\s+created\\s`));
    t.equal(env.run(['list', '-q']).stdout, `${id}\n`);
    const json = JSON.parse(env.run(['list', '--format', 'json']).stdout);
    t.equal(json[0].id, id);
    t.equal(json[0].status, 'created');
    t.equal(env.run(['delete', id]).code, 0, 'delete of a created container (runc allows it)');
    t.equal(env.run(['list', '--format', 'json']).stdout, 'null\n', 'empty list is null like runc');
    env.done();
  });
}
