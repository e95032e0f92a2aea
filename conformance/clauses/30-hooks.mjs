// config.md — POSIX-platform Hooks, and the hook steps of runtime.md's lifecycle.
import fs from 'node:fs';
import path from 'node:path';
import { assert, eq, fail, mustFail, mustSucceed } from '../lib/check.mjs';
import { alive, nsLink } from '../lib/host.mjs';
import { sleep } from '../lib/runtime.mjs';

const HOOKS = 'config.md#posix-platform-hooks';
const ALL = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** A hook that saves its stdin as NAME.json and appends NAME to `order`, plus `extra` shell. */
function hook(dir, name, extra = '') {
  return { path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json; ${extra} echo ${name} >> ${dir}/order`] };
}
/** startContainer runs in the container: its paths are the container's. */
const dirFor = (b, type) => (type === 'startContainer' ? '/out' : b.outDir);

function withAllHooks(t, extra = {}) {
  const b = t.bundle();
  b.config.process.args = ['/bin/sleep', '1000'];
  b.config.hooks = {};
  for (const type of ALL) b.config.hooks[type] = [hook(dirFor(b, type), type, extra[type] || '')];
  return b;
}

/** create → start → kill → delete, with every hook. */
async function lifecycle(t, b) {
  const c = t.create(b);
  if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
  mustSucceed(t.start(b.id), 'start');
  mustSucceed(t.kill(b.id, 'KILL'), 'kill');
  await t.waitStatus(b.id, 'stopped');
  mustSucceed(t.delete(b.id), 'delete');
}

function hookState(t, b, name) {
  const raw = t.out(b, `${name}.json`);
  if (raw === null) fail(`${name} hook did not run`);
  try {
    return JSON.parse(raw);
  } catch {
    fail(`${name} hook got no JSON state on stdin: ${JSON.stringify(raw.slice(0, 200))}`);
  }
}

const failingHook = { path: '/bin/sh', args: ['sh', '-c', 'exit 1'] };

const perType = ALL.map((type) => ({
  id: `hooks.${type}.invoked`,
  spec: 'runtime.md#lifecycle',
  quote: `The ${type} hooks MUST be invoked by the runtime.`,
  async run(t) {
    const b = withAllHooks(t);
    await lifecycle(t, b);
    hookState(t, b, type);
  },
}));

const failures = ['prestart', 'createRuntime', 'createContainer'].map((type) => ({
  id: `hooks.${type}.failure`,
  spec: 'runtime.md#lifecycle',
  quote:
    `If any ${type} hook fails, the runtime MUST generate an error, stop the container, ` +
    `and continue the lifecycle at step 12.`,
  async run(t) {
    const b = t.bundle();
    b.config.process.args = ['/bin/sleep', '1000'];
    // The first hook records the container pid, the second fails.
    b.config.hooks = { [type]: [hook(b.outDir, 'first'), failingHook], poststop: [hook(b.outDir, 'poststop')] };
    mustFail(t.create(b), `create with a failing ${type} hook`);
    const st = hookState(t, b, 'first');
    // Only a hook in the runtime namespace sees the pid as the host does.
    if (type !== 'createContainer' && st.pid)
      assert(!alive(st.pid), `container process ${st.pid} still alive after the failed create`);
    eq(t.state(b.id), null, 'state after the failed create (container must be destroyed)');
  },
}));

export const clauses = [
  ...perType,
  {
    id: 'hooks.order',
    spec: 'runtime.md#lifecycle',
    quote:
      'Lifecycle steps 3-13: prestart, createRuntime, createContainer (create); startContainer, ' +
      'user program, poststart (start); poststop (delete).',
    async run(t) {
      const b = withAllHooks(t);
      await lifecycle(t, b);
      eq((t.out(b, 'order') || '').trim().split('\n').join(','), ALL.join(','), 'order hooks ran in');
    },
  },
  {
    id: 'hooks.listed-order',
    spec: HOOKS,
    quote: 'Hooks MUST be called in the listed order.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = {
        prestart: ['p1', 'p2', 'p3'].map((n) => hook(b.outDir, n)),
        poststop: ['s1', 's2', 's3'].map((n) => hook(b.outDir, n)),
      };
      await t.run(b);
      eq((t.out(b, 'order') || '').trim().split('\n').join(','), 'p1,p2,p3,s1,s2,s3', 'order hooks ran in');
    },
  },
  {
    id: 'hooks.state-on-stdin',
    spec: HOOKS,
    quote:
      'The state of the container MUST be passed to hooks over stdin so that they may do work appropriate to ' +
      'the current state of the container.',
    async run(t) {
      const b = withAllHooks(t);
      await lifecycle(t, b);
      const bundle = fs.realpathSync(b.dir);
      for (const type of ALL) {
        const s = hookState(t, b, type);
        eq(s.id, b.id, `${type}: state.id`);
        eq(s.bundle, bundle, `${type}: state.bundle`);
        assert(typeof s.ociVersion === 'string', `${type}: state.ociVersion missing`);
        assert(typeof s.status === 'string', `${type}: state.status missing`);
      }
      eq(hookState(t, b, 'poststop').status, 'stopped', 'poststop: state.status');
      const pid = hookState(t, b, 'poststart').pid;
      assert(Number.isInteger(pid) && pid > 0, `poststart: state.pid ${pid}`);
    },
  },
  {
    id: 'hooks.args-env',
    spec: HOOKS,
    quote:
      "args (array of strings, OPTIONAL) with the same semantics as execv's argv. env (array of strings, " +
      'OPTIONAL) with the same semantics as environ.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = {
        prestart: [
          {
            path: '/bin/sh',
            args: ['sh', '-c', `echo "$0 $1 FOO=$FOO HOME=$HOME" > ${b.outDir}/hook`, 'zero', 'one'],
            env: ['FOO=bar baz'],
          },
        ],
      };
      await t.run(b);
      eq(t.out(b, 'hook'), 'zero one FOO=bar baz HOME=\n', 'what the hook saw (argv and only its env)');
    },
  },
  {
    id: 'hooks.timeout',
    spec: HOOKS,
    quote: 'timeout (int, OPTIONAL) is the number of seconds before aborting the hook.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
      const started = Date.now();
      const c = t.create(b);
      const took = Date.now() - started;
      mustFail(c, 'create with a prestart hook that outlives its timeout');
      assert(took < 15000, `create took ${took} ms; the hook was not aborted after 1 s`);
    },
  },
  {
    id: 'hooks.prestart.before-pivot',
    spec: 'config.md#prestart',
    quote:
      'The prestart hooks MUST be called ... after the runtime environment has been created ... ' +
      'but before the pivot_root or any equivalent operation has been executed.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = {
        prestart: [
          hook(
            b.outDir,
            'prestart',
            `pid=$(sed 's/.*"pid": *\\([0-9]*\\).*/\\1/' ${b.outDir}/prestart.json); ` +
              `readlink /proc/$pid/ns/uts > ${b.outDir}/uts; readlink /proc/$pid/root > ${b.outDir}/root;`,
          ),
        ],
      };
      await t.run(b);
      assert(
        t.out(b, 'uts')?.trim() !== nsLink('self', 'uts') && t.out(b, 'uts')?.startsWith('uts:'),
        `container uts ns in prestart: ${t.out(b, 'uts')} (host ${nsLink('self', 'uts')})`,
      );
      eq(t.out(b, 'root')?.trim(), '/', 'root directory of the container process during prestart (before pivot_root)');
    },
  },
  {
    id: 'hooks.createRuntime.runtime-namespace',
    spec: 'config.md#createRuntime-hooks',
    quote: 'The createRuntime hooks MUST be executed in the runtime namespace.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = {
        createRuntime: [
          hook(
            b.outDir,
            'cr',
            `readlink /proc/self/ns/mnt > ${b.outDir}/mnt; readlink /proc/self/ns/uts > ${b.outDir}/uts;`,
          ),
        ],
      };
      await t.run(b);
      eq(t.out(b, 'mnt')?.trim(), nsLink('self', 'mnt'), 'mount namespace of the createRuntime hook');
      eq(t.out(b, 'uts')?.trim(), nsLink('self', 'uts'), 'uts namespace of the createRuntime hook');
    },
  },
  {
    id: 'hooks.createContainer.container-namespace',
    spec: 'config.md#createContainer-hooks',
    quote: 'The createContainer hooks MUST be executed in the container namespace.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.hooks = {
        createContainer: [
          hook(
            b.outDir,
            'cc',
            `readlink /proc/self/ns/mnt > ${b.outDir}/mnt; readlink /proc/self/ns/uts > ${b.outDir}/uts;`,
          ),
        ],
      };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const pid = t.state(b.id).pid;
      for (const ns of ['mnt', 'uts'])
        eq(t.out(b, ns)?.trim(), nsLink(pid, ns), `${ns} namespace of the createContainer hook vs the container's`);
    },
  },
  {
    id: 'hooks.startContainer.container-namespace',
    spec: 'config.md#startContainer-hooks',
    quote:
      "The startContainer hooks' path MUST resolve in the container namespace. " +
      'The startContainer hooks MUST be executed in the container namespace.',
    async run(t) {
      const b = t.bundle({ privateRootfs: true });
      // A hook binary that exists only inside the container's rootfs.
      fs.writeFileSync(path.join(b.rootfs, 'in-container-hook'), '#!/bin/sh\nhostname > /out/hostname\n', {
        mode: 0o755,
      });
      b.config.hostname = 'start-container-ns';
      b.config.hooks = { startContainer: [{ path: '/in-container-hook', args: ['in-container-hook'] }] };
      await t.run(b);
      eq(t.out(b, 'hostname')?.trim(), 'start-container-ns', 'hostname seen by the startContainer hook');
    },
  },
  {
    id: 'hooks.startContainer.failure',
    spec: 'runtime.md#lifecycle',
    quote:
      'If any startContainer hook fails, the runtime MUST generate an error, stop the container, ' +
      'and continue the lifecycle at step 12.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sh', '-c', 'echo ran > /out/ran; sleep 1000'];
      b.config.hooks = { startContainer: [failingHook] };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const pid = t.state(b.id).pid;
      mustFail(t.start(b.id), 'start with a failing startContainer hook');
      await sleep(200);
      eq(t.out(b, 'ran'), null, '/out/ran (the program must not run)');
      assert(!alive(pid), `container process ${pid} still alive`);
      const s = t.state(b.id);
      assert(s === null || s.status === 'stopped', `container status ${s?.status} after the failed start`);
    },
  },
  {
    id: 'hooks.poststart.after-program',
    spec: 'config.md#poststart',
    quote:
      'The poststart hooks MUST be called after the user-specified process is executed but before the start ' +
      'operation returns.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.hooks = {
        poststart: [
          hook(
            b.outDir,
            'poststart',
            `pid=$(sed 's/.*"pid": *\\([0-9]*\\).*/\\1/' ${b.outDir}/poststart.json); ` +
              `tr '\\0' ' ' < /proc/$pid/cmdline > ${b.outDir}/cmdline;`,
          ),
        ],
      };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      mustSucceed(t.start(b.id), 'start');
      // Checked right after start returned, without waiting.
      eq(t.out(b, 'cmdline'), '/bin/sleep 1000 ', 'container process command line seen by the poststart hook');
    },
  },
  {
    // runtime-spec v1.3 made this an error (v1.0-v1.2: "log a warning, but the remaining hooks and
    // lifecycle continue as if the hook had succeeded"); tsrun follows v1.3 (issue 18).
    id: 'hooks.poststart.failure',
    spec: 'runtime.md#lifecycle (v1.3)',
    quote:
      'If any poststart hook fails, the runtime MUST generate an error, stop the container, ' +
      'and continue the lifecycle at step 12.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.hooks = { poststart: [failingHook, hook(b.outDir, 'second')] };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const pid = t.state(b.id).pid;
      mustFail(t.start(b.id), 'start with a failing poststart hook');
      eq(t.out(b, 'second'), null, 'the hook after the failing one ran');
      assert(!alive(pid), `container process ${pid} still alive`);
      const s = t.state(b.id);
      assert(s === null || s.status === 'stopped', `container status ${s?.status} after the failed start`);
    },
  },
  {
    id: 'hooks.poststop.after-delete',
    spec: 'config.md#poststop',
    quote: 'The poststop hooks MUST be called after the container is deleted but before the delete operation returns.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = { poststop: [hook(b.outDir, 'poststop')] };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
      eq(t.out(b, 'order'), null, 'poststop ran before delete');
      mustSucceed(t.delete(b.id), 'delete');
      eq(t.out(b, 'order'), 'poststop\n', 'poststop ran by the time delete returned');
    },
  },
  {
    id: 'hooks.poststop.failure-is-warning',
    spec: 'runtime.md#lifecycle',
    quote:
      'If any poststop hook fails, the runtime MUST log a warning, ' +
      'but the remaining hooks and lifecycle continue as if the hook had succeeded.',
    async run(t) {
      const b = t.bundle();
      b.config.hooks = { poststop: [failingHook, hook(b.outDir, 'second')] };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      mustSucceed(t.start(b.id), 'start');
      await t.waitStatus(b.id, 'stopped');
      mustSucceed(t.delete(b.id), 'delete with a failing poststop hook');
      hookState(t, b, 'second');
      eq(t.state(b.id), null, 'state after delete');
    },
  },
  ...failures,
];
