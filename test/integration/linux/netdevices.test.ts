// linux.netDevices on real containers, with veth pairs and tap devices made
// here (this kernel has no dummy driver). The devices are never given
// traffic: veth peers stay down, taps have no reader. tsrun itself never runs
// `ip`; the test uses it to make devices and to look at namespaces.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  mountsUnder,
  waitStatus,
  type Env,
} from '../../helpers/harness';
import type { Spec } from '../../../src/spec/types';
import { waitForSync } from '../../helpers/wait';

const ip = (args: string[], netns?: string) => {
  const r = spawnSync('ip', netns ? ['-n', netns, ...args] : args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
};
const mustIp = (args: string[], netns?: string) => {
  const r = ip(args, netns);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
  return r.out;
};
const hasLink = (name: string, netns?: string) => ip(['link', 'show', 'dev', name], netns).ok;

/** Polls: a dying network namespace is torn down asynchronously by the kernel. */
function eventually(check: () => boolean, ms = 5000): boolean {
  return waitForSync(check, { timeoutMs: ms });
}

let n = 0;
/** A veth pair and a tap, named after this process; deleted at teardown whatever happened. */
function makeDevices(t: Test) {
  const tag = `${process.pid % 100000}${++n}`;
  const dev = { veth: `tsnd-a${tag}`, peer: `tsnd-b${tag}`, tap: `tsnd-t${tag}` };
  t.teardown(() => {
    for (const d of Object.values(dev)) ip(['link', 'delete', 'dev', d]);
  });
  mustIp(['link', 'add', dev.veth, 'type', 'veth', 'peer', 'name', dev.peer]);
  mustIp(['tuntap', 'add', 'dev', dev.tap, 'mode', 'tap']);
  return dev;
}

function makeNetns(t: Test): string {
  const name = uniqueId('tsnd-ns');
  mustIp(['netns', 'add', name]);
  t.teardown(() => ip(['netns', 'delete', name]));
  return name;
}

function config(id: string, devices: Record<string, { name?: string }>, script = 'true'): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.linux!.netDevices = devices;
  return c;
}

function joinNetns(c: Spec, path: string): Spec {
  c.linux!.namespaces = c.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path } : ns));
  return c;
}

function runIn(env: Env, c: Spec, id: string) {
  return env.run(['run', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
}

function createFails(t: Test, env: Env, c: Spec, pattern: RegExp) {
  const id = uniqueId('nd-bad');
  const r = env.run(['create', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
  t.equal(r.code, 1, `create fails: ${pattern}`);
  t.match(r.stderr, pattern);
  t.notOk(existsSync(join(env.root, id)), 'no state dir left');
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('a veth end and a tap move in, renamed, up, with their permanent global addresses only', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    mustIp(['address', 'add', '169.254.77.7/32', 'dev', dev.veth]);
    mustIp(['address', 'add', '127.0.0.33/8', 'dev', dev.veth]); // host scope: not preserved
    mustIp(['link', 'set', dev.tap, 'mtu', '1400']);
    const id = uniqueId('nd');
    const c = config(
      id,
      { [dev.veth]: { name: 'ceth0' }, [dev.tap]: {} },
      'ls /sys/class/net; ip addr show; ip link show',
    );
    const r = runIn(env, c, id);
    t.equal(r.code, 0, 'run exits 0');
    t.same(r.stdout.split('\n').slice(0, 3), ['ceth0', 'lo', dev.tap], 'inside: both devices, the veth end renamed');
    t.match(r.stdout, /inet 169\.254\.77\.7\/32 scope global ceth0/, 'the global address came along');
    t.notMatch(r.stdout, /127\.0\.0\.33/, 'the host-scope address did not');
    t.match(r.stdout, new RegExp(`\\d+: ceth0@\\w+: <[^>]*\\bUP\\b`), 'the veth end is up');
    t.match(r.stdout, new RegExp(`\\d+: ${dev.tap}: <[^>]*\\bUP\\b[^>]*> mtu 1400`), 'the tap is up and kept its mtu');
    // The spec forbids moving them out: the namespace died with the init, and the
    // kernel destroys virtual devices with it (the veth's host end too).
    t.ok(
      eventually(() => !hasLink(dev.veth) && !hasLink('ceth0') && !hasLink(dev.peer) && !hasLink(dev.tap)),
      'virtual devices went with the namespace',
    );
    env.done();
  });

  t.test('during the container: the device is gone from the host; a second container cannot have it', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    const id = uniqueId('nd');
    const r = env.run(['create', '-b', env.bundle(config(id, { [dev.tap]: { name: 'eth%d' } }, 'sleep 100')), id], {
      output: join(env.dir, `${id}.out`),
    });
    t.equal(r.code, 0, 'create exits 0');
    const pid = Number(waitStatus(env, id, 'created').pid);
    t.notOk(hasLink(dev.tap), 'not on the host');
    const inside = spawnSync('nsenter', ['-t', String(pid), '-n', 'ip', '-o', 'link', 'show'], {
      encoding: 'utf8',
    }).stdout;
    t.match(inside, /\d+: eth0: <[^>]*UP/, 'the template gave eth0 in the container, up, before start');
    const other = uniqueId('nd');
    createFails(
      t,
      env,
      config(other, { [dev.tap]: {} }),
      new RegExp(`/linux/netDevices/${dev.tap}: there is no network device "${dev.tap}" in the host network namespace`),
    );
    t.equal(env.run(['delete', '--force', id]).code, 0);
    env.done();
  });

  t.test('into a network namespace owned by the container user namespace', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    const id = uniqueId('nd');
    const c = config(id, { [dev.tap]: { name: 'eth0' } }, 'ip -o link show eth0; cat /proc/self/uid_map');
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const r = runIn(env, c, id);
    t.equal(r.code, 0, 'run exits 0');
    t.match(r.stdout, /\d+: eth0: <[^>]*\bUP\b/, 'moved, renamed and up');
    t.match(r.stdout, /^\s*0\s+100000\s+65536$/m, 'in its own user namespace');
    env.done();
  });

  t.test('a joined namespace keeps the device after delete, as the spec wants', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    const netns = makeNetns(t);
    mustIp(['address', 'add', '169.254.77.8/32', 'dev', dev.veth]);
    const id = uniqueId('nd');
    const c = joinNetns(config(id, { [dev.veth]: { name: 'ctr0' } }), `/run/netns/${netns}`);
    t.equal(runIn(env, c, id).code, 0);
    t.equal(env.run(['delete', id]).code, 1, 'already deleted by run');
    const there = ip(['-o', 'address', 'show', 'dev', 'ctr0'], netns);
    t.ok(there.ok, 'still in the joined namespace under its container name');
    t.match(there.out, /169\.254\.77\.8\/32/, 'with its address');
    t.notOk(hasLink(dev.veth), 'not moved back to the host');
    // Its name is taken there now: a second container may not bring another device of that name.
    createFails(
      t,
      env,
      joinNetns(config(uniqueId('nd'), { [dev.tap]: { name: 'ctr0' } }), `/run/netns/${netns}`),
      new RegExp(
        `/linux/netDevices/${dev.tap}/name: a network device "ctr0" already exists in the network namespace of`,
      ),
    );
    t.ok(hasLink(dev.tap), 'the tap stayed on the host');
    mustIp(['link', 'set', 'dev', 'ctr0', 'netns', '1', 'name', dev.veth], netns);
    env.done();
  });

  t.test('bad netDevices: the JSON path, the reason, nothing moved or left', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    mustIp(['address', 'add', '169.254.77.9/32', 'dev', dev.veth]);
    mustIp(['link', 'set', dev.veth, 'up']);
    const id = () => uniqueId('nd-bad');
    createFails(
      t,
      env,
      config(id(), { 'tsnd-nosuch': {} }),
      /config\.json: \/linux\/netDevices\/tsnd-nosuch: there is no network device "tsnd-nosuch" in the host network namespace/,
    );
    createFails(
      t,
      env,
      config(id(), { [dev.veth]: { name: 'lo' } }),
      new RegExp(
        `/linux/netDevices/${dev.veth}/name: a network device "lo" already exists in the network namespace of`,
      ),
    );
    createFails(
      t,
      env,
      config(id(), { [dev.veth]: {}, [dev.tap]: { name: dev.veth } }),
      new RegExp(`/linux/netDevices/${dev.tap}: "${dev.veth}" is also to be called "${dev.veth}" in the container`),
    );
    createFails(
      t,
      env,
      config(id(), { [dev.veth]: { name: 'a/b' } }),
      new RegExp(`/linux/netDevices/${dev.veth}/name: "a/b" may not contain`),
    );
    createFails(t, env, config(id(), { [dev.veth]: { name: 'a-name-too-long-x' } }), /longer than 15 bytes/);
    const noNetns = config(id(), { [dev.veth]: {} });
    noNetns.linux!.namespaces = noNetns.linux!.namespaces!.filter((ns) => ns.type !== 'network');
    createFails(t, env, noNetns, /\/linux\/netDevices: the container has no network namespace of its own/);
    createFails(
      t,
      env,
      joinNetns(config(id(), { [dev.veth]: {} }), `/proc/${process.pid}/ns/net`),
      /\/linux\/netDevices: the container's network namespace is the runtime's own/,
    );

    // The second cannot move (a bridge's namespace is fixed): the first, already moved, comes back as it was.
    const bridge = `tsnd-r${process.pid % 100000}`;
    t.teardown(() => ip(['link', 'delete', 'dev', bridge]));
    mustIp(['link', 'add', bridge, 'type', 'bridge']);
    createFails(
      t,
      env,
      config(id(), { [dev.veth]: { name: 'ceth0' }, [bridge]: {} }),
      new RegExp(
        `/linux/netDevices/${bridge}: rtnetlink RTM_NEWLINK\\(${bridge} → netns of nd-bad-\\d+-\\d+\\): EINVAL`,
      ),
    );
    const back = mustIp(['-o', 'address', 'show', 'dev', dev.veth]);
    t.match(back, /169\.254\.77\.9\/32/, 'the first device is back on the host with its address');
    t.match(mustIp(['-o', 'link', 'show', 'dev', dev.veth]), /<[^>]*\bUP\b/, 'and up again');
    t.ok(hasLink(bridge) && hasLink(dev.tap) && hasLink(dev.peer), 'the others never left');
    t.same(mountsUnder([env.dir]), [], 'no mount left');
    env.done();
  });

  t.test('moved before the prestart hooks; a failing hook gets the device back to the host', async (t) => {
    const env = testEnv(t);
    const dev = makeDevices(t);
    mustIp(['address', 'add', '169.254.77.10/32', 'dev', dev.veth]);
    const seen = join(env.dir, 'hook-saw');
    const c = config(uniqueId('nd'), { [dev.veth]: { name: 'ceth0' } });
    c.hooks = {
      prestart: [
        {
          path: '/bin/sh',
          args: [
            'sh',
            '-c',
            `if ip link show dev ${dev.veth} >/dev/null 2>&1; then echo host; else echo moved; fi > ${seen}; exit 1`,
          ],
        },
      ],
    };
    createFails(t, env, c, /prestart hook 0 \(\/bin\/sh\): exited with status 1/);
    t.equal(readFileSync(seen, 'utf8'), 'moved\n', 'the hook ran with the device already in the container');
    t.match(
      mustIp(['-o', 'address', 'show', 'dev', dev.veth]),
      /169\.254\.77\.10\/32/,
      'back on the host, under its own name, with its address',
    );
    env.done();
  });
}
