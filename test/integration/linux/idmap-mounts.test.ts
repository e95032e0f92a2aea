// Id-mapped bind mounts (config.md: mounts[].uidMappings/gidMappings, the
// idmap and ridmap options) in real containers made by bin/tsrun, on tmpfs
// and ext4 sources holding files owned by host uid/gid 1000: the ids seen
// inside, the ids a write inside leaves on the host's disk, the recursion of
// ridmap, the host's locks kept, and the errors (named, nothing left behind).
//
// A mount mapping {containerID: C, hostID: H, size: N} shows an id C+k of the
// source filesystem as H+k on the mount, and a write by H+k lands as C+k:
// the kernel reads it as a user namespace's uid_map (mount_setattr(2)).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  isRoot,
  ROOT_REASON,
  testCgroupPath,
  testEnv,
  testConfig,
  uniqueId,
  type Env,
} from '../../helpers/harness';
import type { LinuxIDMapping, Mount, Spec } from '../../../src/spec/types';

const CONTAINER_MAP: LinuxIDMapping[] = [{ containerID: 0, hostID: 100000, size: 65536 }];

/** A container with a user namespace (its root is host 100000): targets must exist in the shared rootfs (/tmp). */
function usernsConfig(id: string, script: string): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = CONTAINER_MAP;
  c.linux!.gidMappings = CONTAINER_MAP;
  return c;
}

function run(env: Env, c: Spec, id: string) {
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '--bundle', env.bundle(c), id], { output: out });
  return { code: r.code, output: readFileSync(out, 'utf8') };
}

/** A file `f` owned by 1000:1000 in dir, which anyone may write to. */
function ownedFile(dir: string): string {
  const f = join(dir, 'f');
  writeFileSync(f, 'data\n');
  chownSync(f, 1000, 1000);
  return f;
}

/** A tmpfs mounted at env.dir/name, unmounted at teardown (and by `unmount` before env.done()). */
function tmpfsSource(t: { teardown(fn: () => void): unknown }, env: Env, name: string, options = 'mode=1777') {
  const dir = join(env.dir, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, `tsrun-${name}`, dir]);
  let mounted = true;
  const unmount = () => {
    if (mounted) execFileSync('umount', ['-R', dir]);
    mounted = false;
  };
  t.teardown(unmount);
  return { dir, unmount };
}

const ownerOnHost = (path: string) => `${statSync(path).uid}:${statSync(path).gid}`;

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('tmpfs, no user namespace: the mount shows and writes through its own mapping', async (t) => {
    const env = testEnv(t);
    const src = tmpfsSource(t, env, 'vol');
    ownedFile(src.dir);
    const id = uniqueId('idmap');
    // As 101000, which the mapping turns into 1000 on the disk.
    const script =
      'stat -c "f=%u:%g" /vol/f; touch /vol/new && echo wrote; grep " /vol " /proc/self/mountinfo; echo fds=$(ls /proc/self/fd | tr "\\n" " ")';
    const c = testConfig(id, ['sh', '-c', script]);
    c.process!.user = { uid: 101000, gid: 101000 };
    c.mounts!.push({
      destination: '/vol',
      type: 'bind',
      source: src.dir,
      options: ['bind', 'idmap', 'nosuid'],
      uidMappings: CONTAINER_MAP,
      gidMappings: CONTAINER_MAP,
    });
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^f=101000:101000$/m, 'host 1000 shows as 101000 inside');
    t.match(r.output, /^wrote$/m);
    t.equal(ownerOnHost(join(src.dir, 'new')), '1000:1000', 'the file written by 101000 is 1000:1000 on the host');
    t.match(
      r.output,
      /^\S+ \S+ \S+ \/ \/vol rw,nosuid,[^ ]*idmapped/m,
      'mountinfo: an idmapped mount, with the nosuid option',
    );
    t.match(
      r.output,
      /^fds=0 1 2 3\s*$/m,
      'no descriptor of the runtime reaches the program (3 is ls reading the directory)',
    );
    src.unmount();
    env.done();
  });

  t.test("ext4, user namespace: idmap without a mapping takes the container's", async (t) => {
    const env = testEnv(t);
    const image = join(env.dir, 'ext4.img');
    writeFileSync(image, '');
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-F', '-q', image]);
    const dir = join(env.dir, 'ext4');
    mkdirSync(dir);
    execFileSync('mount', ['-o', 'loop,nosuid,nodev', image, dir]);
    let mounted = true;
    const unmount = () => {
      if (mounted) execFileSync('umount', [dir]);
      mounted = false;
    };
    t.teardown(unmount);
    execFileSync('chmod', ['1777', dir]);
    ownedFile(dir);
    const id = uniqueId('idmapext4');
    const script = [
      'stat -c "f=%u:%g" /tmp/f',
      'touch /tmp/new && echo wrote',
      'id -u',
      'mount -o remount,bind,suid,dev /tmp 2>/dev/null && echo flags=dropped || echo flags=locked',
      'stat -c "ro=%u:%g" /tmp/ro/f',
      'touch /tmp/ro/x 2>/dev/null && echo ro=written || echo ro=refused',
    ].join('; ');
    const c = usernsConfig(id, script);
    for (const set of Object.values(c.process!.capabilities!)) (set as string[]).push('CAP_SYS_ADMIN');
    c.mounts!.push({ destination: '/tmp', type: 'bind', source: dir, options: ['bind', 'idmap'] });
    c.mounts!.push({ destination: '/tmp/ro', type: 'bind', source: dir, options: ['bind', 'idmap', 'ro'] });
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^f=1000:1000$/m, 'host 1000 shows as 1000 in the container (uid 101000 outside it)');
    t.match(r.output, /^wrote$/m);
    t.equal(ownerOnHost(join(dir, 'new')), '0:0', "a file the container's root writes is 0:0 on the disk");
    t.match(r.output, /^flags=locked$/m, "the host mount's nosuid/nodev stay locked for the container's root");
    t.match(r.output, /^ro=1000:1000$/m, 'a second, read-only id-mapped mount of the same source');
    t.match(r.output, /^ro=refused$/m, 'ro holds on it');
    unmount();
    t.equal(execFileSync('losetup', ['-j', image], { encoding: 'utf8' }), '', 'the loop device is gone');
    env.done();
  });

  t.test('user namespace, a mapping of its own: host 1000 becomes the container root', async (t) => {
    const env = testEnv(t);
    const src = tmpfsSource(t, env, 'vol', 'mode=755');
    chownSync(src.dir, 1000, 1000);
    ownedFile(src.dir);
    const id = uniqueId('idmapown');
    // Disk id 1000 ↔ host id 100000, the container's root.
    const map = [{ containerID: 1000, hostID: 100000, size: 1 }];
    const c = usernsConfig(id, 'stat -c "dir=%u:%g" /tmp; stat -c "f=%u:%g" /tmp/f; touch /tmp/new && echo wrote');
    c.mounts!.push({
      destination: '/tmp',
      type: 'bind',
      source: src.dir,
      options: ['rbind', 'idmap'],
      uidMappings: map,
      gidMappings: map,
    });
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    t.match(r.output, /^dir=0:0$/m, "the volume is the container root's");
    t.match(r.output, /^f=0:0$/m, 'and so is its file');
    t.match(r.output, /^wrote$/m, 'the container root may write there');
    t.equal(ownerOnHost(join(src.dir, 'new')), '1000:1000', 'what it writes is 1000:1000 on the host');
    src.unmount();
    env.done();
  });

  t.test('ridmap maps the submounts of an rbind, idmap only its top', async (t) => {
    const env = testEnv(t);
    const src = tmpfsSource(t, env, 'vol');
    ownedFile(src.dir);
    const sub = join(src.dir, 'sub');
    mkdirSync(sub);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=1777', 'tsrun-idmap-sub', sub]);
    ownedFile(sub);
    const id = uniqueId('ridmap');
    const script = 'for d in /top /rec; do stat -c "$d %u:%g" $d/f $d/sub/f; done';
    const c = testConfig(id, ['sh', '-c', script]);
    const mount = (destination: string, options: string[]): Mount => ({
      destination,
      type: 'bind',
      source: src.dir,
      options,
      uidMappings: CONTAINER_MAP,
      gidMappings: CONTAINER_MAP,
    });
    c.mounts!.push(mount('/top', ['rbind', 'idmap']), mount('/rec', ['rbind', 'ridmap']));
    const r = run(env, c, id);
    t.equal(r.code, 0, r.output);
    const lines = r.output.trim().split('\n');
    t.same(
      lines.slice(-4),
      ['/top 101000:101000', '/top 1000:1000', '/rec 101000:101000', '/rec 101000:101000'],
      'idmap: the submount keeps the disk ids; ridmap: mapped too',
    );
    src.unmount();
    env.done();
  });

  t.test('bad input is named and leaves nothing behind', async (t) => {
    const cases: [string, (c: Spec, vol: string) => void, RegExp][] = [
      [
        'uidMappings without idmap',
        (c, vol) =>
          c.mounts!.push({
            destination: '/vol',
            type: 'bind',
            source: vol,
            options: ['rbind'],
            uidMappings: CONTAINER_MAP,
            gidMappings: CONTAINER_MAP,
          }),
        /config\.json: \/mounts\/(\d+)\/uidMappings: an id mapping needs the "idmap" or "ridmap" option/,
      ],
      [
        'idmap without a mapping nor a user namespace',
        (c, vol) => c.mounts!.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'idmap'] }),
        /config\.json: \/mounts\/(\d+)\/options\/1: "idmap" without uidMappings and gidMappings takes the container's mapping, but there is no user namespace/,
      ],
      [
        'a sysfs source',
        (c) =>
          c.mounts!.push({
            destination: '/vol',
            type: 'bind',
            source: '/sys/kernel',
            options: ['bind', 'idmap'],
            uidMappings: CONTAINER_MAP,
            gidMappings: CONTAINER_MAP,
          }),
        /config\.json: \/mounts\/(\d+): id-mapped mount \/sys\/kernel → \/vol: mount_setattr\(MOUNT_ATTR_IDMAP\): EINVAL: the filesystem of \/sys\/kernel \(sysfs\) cannot be id-mapped/,
      ],
      [
        'a devpts source',
        (c) =>
          c.mounts!.push({
            destination: '/vol',
            type: 'bind',
            source: '/dev/pts',
            options: ['bind', 'idmap'],
            uidMappings: CONTAINER_MAP,
            gidMappings: CONTAINER_MAP,
          }),
        /config\.json: \/mounts\/(\d+): id-mapped mount \/dev\/pts → \/vol: mount_setattr\(MOUNT_ATTR_IDMAP\): EINVAL: the filesystem of \/dev\/pts \(devpts\) cannot be id-mapped/,
      ],
      [
        'a mapping the kernel refuses',
        (c, vol) =>
          c.mounts!.push({
            destination: '/vol',
            type: 'bind',
            source: vol,
            options: ['bind', 'idmap'],
            uidMappings: [
              { containerID: 0, hostID: 100000, size: 10 },
              { containerID: 5, hostID: 200000, size: 10 },
            ],
            gidMappings: CONTAINER_MAP,
          }),
        /config\.json: \/mounts\/(\d+)\/uidMappings: the kernel refuses this mapping \("0 100000 10\\n5 200000 10"\): EINVAL/,
      ],
    ];
    for (const [name, edit, expected] of cases) {
      const env = testEnv(t);
      const id = uniqueId('idmapbad');
      const c = testConfig(id, ['true']);
      edit(c, env.dir);
      const r = env.run(['create', '--bundle', env.bundle(c), id]);
      t.equal(r.code, 1, `${name}: create fails`);
      const m = r.stderr.match(expected);
      t.ok(m, `${name}: ${r.stderr.trim()}`);
      if (m) t.equal(Number(m[1]), c.mounts!.length - 1, `${name}: names the mount`);
      t.equal(spawnSync('pgrep', ['-f', id]).status, 1, `${name}: no process left (init, helper child)`);
      t.same(cgroupDirsOf(testCgroupPath(id)), [], `${name}: no cgroup left`);
      env.done();
    }
  });
}
