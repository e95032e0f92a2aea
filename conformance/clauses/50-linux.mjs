// config-linux.md and runtime-linux.md.
import fs from 'node:fs';
import path from 'node:path';
import { assert, eq, fail, mountAt, mustFail, parseKv, parseMountinfo, skip } from '../lib/check.mjs';
import { sh, withoutNamespace } from '../lib/config.mjs';
import { cgroupDirs, namespaceHolder, nsLink } from '../lib/host.mjs';

const NS = 'config-linux.md#namespaces';
// config type → /proc/PID/ns name
const NS_FILES = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

const nsScript = Object.values(NS_FILES)
  .map((f) => `echo ${f}=$(readlink /proc/self/ns/${f})`)
  .join('; ');

function addUserNamespace(b) {
  b.config.linux.namespaces.push({ type: 'user' });
  b.config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  b.config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

const newNamespace = Object.entries(NS_FILES).map(([type, file]) => ({
  id: `linux.namespaces.new.${type}`,
  spec: NS,
  quote: `If path is not specified, the runtime MUST create a new container namespace of type type. (${type})`,
  async run(t) {
    const b = t.bundle();
    if (type === 'user') addUserNamespace(b);
    else if (!b.config.linux.namespaces.some((n) => n.type === type)) b.config.linux.namespaces.push({ type });
    const seen = parseKv(await t.script(b, nsScript));
    assert(seen[file]?.startsWith(`${file}:`), `container's ${file} namespace: ${seen[file]}`);
    assert(seen[file] !== nsLink('self', file), `container shares the runtime's ${file} namespace ${seen[file]}`);
  },
}));

async function devStat(t, b, paths) {
  const out = await t.script(
    b,
    paths.map((p) => `stat -c "%n|%F|%t:%T|%a|%u|%g" ${p} 2>/dev/null || echo "${p}|missing"`).join('; '),
  );
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.split('|')[0], l.split('|').slice(1).join('|')]),
  );
}

function propagationClause(value, test, describe) {
  return {
    id: `linux.rootfsPropagation.${value}`,
    spec: 'config-linux.md#rootfs-mount-propagation',
    quote: `rootfsPropagation (string, OPTIONAL) sets the rootfs's mount propagation. Its value is either shared, slave, private or unbindable. (${value})`,
    async run(t) {
      const b = t.bundle();
      b.config.linux.rootfsPropagation = value;
      const root = mountAt(parseMountinfo(await t.script(b, 'cat /proc/self/mountinfo')), '/');
      const opt = root?.optional.join(' ') ?? 'no / mount';
      assert(test(opt), `optional fields of / are "${opt}", expected ${describe}`);
    },
  };
}

export const clauses = [
  ...newNamespace,
  {
    id: 'linux.namespaces.inherit',
    spec: NS,
    quote:
      'If a namespace type is not specified in the namespaces array, the container MUST inherit the runtime namespace of that type.',
    async run(t) {
      const b = t.bundle();
      for (const type of ['pid', 'network', 'ipc', 'uts']) withoutNamespace(b.config, type);
      delete b.config.hostname;
      b.config.mounts = b.config.mounts.filter((m) => m.type !== 'mqueue' && m.type !== 'sysfs');
      const seen = parseKv(await t.script(b, nsScript));
      for (const f of ['pid', 'net', 'ipc', 'uts', 'user', 'cgroup']) eq(seen[f], nsLink('self', f), `${f} namespace`);
    },
  },
  {
    id: 'linux.namespaces.path',
    spec: NS,
    quote: 'The runtime MUST place the container process in the namespace associated with that path.',
    async run(t) {
      const holder = await namespaceHolder(t, ['--uts', '--ipc', '--net']);
      const b = t.bundle();
      for (const [type, f] of [
        ['uts', 'uts'],
        ['ipc', 'ipc'],
        ['network', 'net'],
      ]) {
        b.config.linux.namespaces.find((n) => n.type === type).path = `/proc/${holder}/ns/${f}`;
      }
      const seen = parseKv(await t.script(b, nsScript));
      for (const f of ['uts', 'ipc', 'net']) eq(seen[f], nsLink(holder, f), `${f} namespace vs the one at the path`);
    },
  },
  {
    id: 'linux.namespaces.path.pid',
    spec: NS,
    quote: 'The runtime MUST place the container process in the namespace associated with that path. (pid)',
    async run(t) {
      // unshare --fork: the namespace's pid 1 is unshare's child, the one that runs sleep.
      const nsPid = await namespaceHolder(t, ['--pid', '--fork']);
      const b = t.bundle();
      b.config.linux.namespaces.find((n) => n.type === 'pid').path = `/proc/${nsPid}/ns/pid`;
      const seen = parseKv(await t.script(b, `${nsScript}; echo self=$$`));
      eq(seen.pid, nsLink(nsPid, 'pid'), 'pid namespace vs the one at the path');
      assert(seen.self !== '1', 'container process is pid 1, so it is not in the existing pid namespace');
    },
  },
  {
    id: 'linux.namespaces.path.wrong-type',
    spec: NS,
    quote: 'The runtime MUST generate an error if path is not associated with a namespace of type type.',
    async run(t) {
      const holder = await namespaceHolder(t, ['--net']);
      const b = t.bundle();
      b.config.linux.namespaces.find((n) => n.type === 'uts').path = `/proc/${holder}/ns/net`;
      mustFail(t.create(b), 'create with a network namespace path for type uts');
      eq(t.state(b.id), null, 'state after the failed create');
    },
  },
  {
    id: 'linux.namespaces.duplicate',
    spec: NS,
    quote: 'If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.linux.namespaces.push({ type: 'ipc' });
      mustFail(t.create(b), 'create with two ipc namespaces');
      eq(t.state(b.id), null, 'state after the failed create');
    },
  },
  {
    id: 'linux.user-namespace.mappings',
    spec: 'config-linux.md#user-namespace-mappings',
    quote:
      'uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container. gidMappings ... containerID, hostID, size',
    async run(t) {
      const b = t.bundle();
      addUserNamespace(b);
      b.config.linux.uidMappings.push({ containerID: 70000, hostID: 200000, size: 10 });
      const out = await t.script(
        b,
        'echo uid; cat /proc/self/uid_map; echo gid; cat /proc/self/gid_map; echo id=$(id -u):$(id -g)',
      );
      const norm = (s) =>
        s
          .trim()
          .split('\n')
          .map((l) => l.trim().split(/\s+/).join(' '))
          .join('\n');
      eq(
        norm(out),
        norm('uid\n0 100000 65536\n70000 200000 10\ngid\n0 100000 65536\nid=0:0'),
        'uid_map, gid_map and id inside',
      );
    },
  },
  {
    id: 'linux.devices',
    spec: 'config-linux.md#devices',
    quote: 'devices (array of objects, OPTIONAL) lists devices that MUST be available in the container.',
    async run(t) {
      const b = t.bundle();
      b.config.linux.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 0, gid: 5 },
        { path: '/dev/conformance-blk', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 1, gid: 2 },
        { path: '/dev/conformance-fifo', type: 'p', fileMode: 0o620 },
      ];
      const s = await devStat(t, b, ['/dev/fuse', '/dev/conformance-blk', '/dev/conformance-fifo']);
      eq(s['/dev/fuse'], 'character special file|a:e5|640|0|5', '/dev/fuse (type|major:minor hex|mode|uid|gid)');
      eq(s['/dev/conformance-blk'], 'block special file|7:c8|600|1|2', '/dev/conformance-blk');
      eq(
        s['/dev/conformance-fifo']?.split('|').slice(0, 1).concat(s['/dev/conformance-fifo'].split('|')[2]).join('|'),
        'fifo|620',
        '/dev/conformance-fifo (type|mode)',
      );
    },
  },
  {
    id: 'linux.devices.outside-dev',
    spec: 'config-linux.md#devices',
    quote: 'The path MAY be anywhere in the container filesystem, notably outside of /dev.',
    async run(t) {
      const b = t.bundle({ privateRootfs: true });
      b.config.root.readonly = false;
      b.config.linux.devices = [{ path: '/mnt/devnull', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
      const s = await devStat(t, b, ['/mnt/devnull']);
      eq(s['/mnt/devnull']?.split('|').slice(0, 2).join('|'), 'character special file|1:3', '/mnt/devnull');
    },
  },
  {
    id: 'linux.devices.existing-file-mismatch',
    spec: 'config-linux.md#devices',
    quote:
      'If a file already exists at path that does not match the requested device, the runtime MUST generate an error.',
    async run(t) {
      const b = t.bundle({ privateRootfs: true });
      b.config.root.readonly = false;
      fs.writeFileSync(path.join(b.rootfs, 'etc/not-a-device'), 'regular file\n');
      b.config.linux.devices = [{ path: '/etc/not-a-device', type: 'c', major: 1, minor: 3 }];
      mustFail(t.create(b), 'create with a device path that holds a regular file');
    },
  },
  {
    id: 'linux.devices.default',
    spec: 'config-linux.md#default-devices',
    quote:
      'In addition to any devices configured with this setting, the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, /dev/ptmx',
    async run(t) {
      const b = t.bundle();
      const want = {
        '/dev/null': '1:3',
        '/dev/zero': '1:5',
        '/dev/full': '1:7',
        '/dev/random': '1:8',
        '/dev/urandom': '1:9',
        '/dev/tty': '5:0',
      };
      const s = await devStat(t, b, [...Object.keys(want), '/dev/ptmx', '/dev/pts/ptmx']);
      for (const [p, mm] of Object.entries(want))
        eq(s[p]?.split('|').slice(0, 2).join('|'), `character special file|${mm}`, p);
      const ptmx = s['/dev/ptmx'];
      assert(
        ptmx && (ptmx.startsWith('symbolic link') || ptmx.startsWith('character special file|5:2')),
        `/dev/ptmx: ${ptmx}`,
      );
    },
  },
  {
    id: 'linux.devices.default.usable',
    spec: 'config-linux.md#default-devices',
    quote: 'the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom',
    async run(t) {
      const b = t.bundle();
      const out = await t.script(
        b,
        'echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; head -c 8 /dev/urandom | wc -c; echo x 2>/dev/null > /dev/full || echo full-enospc',
      );
      eq(
        out
          .split('\n')
          .map((l) => l.trim())
          .join('|'),
        'null-ok|00 00 00 00|8|full-enospc|',
        'reads and writes of the default devices',
      );
    },
  },
  {
    id: 'linux.dev-symlinks',
    spec: 'runtime-linux.md#dev-symbolic-links',
    quote:
      'runtimes MUST create the following symlinks if the source file exists after processing mounts: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr',
    async run(t) {
      const b = t.bundle();
      const out = await t.script(b, 'for l in fd stdin stdout stderr; do echo $l=$(readlink /dev/$l); done');
      eq(out, 'fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\nstderr=/proc/self/fd/2\n', 'symlinks');
    },
  },
  {
    id: 'linux.cgroupsPath.consistent',
    spec: 'config-linux.md#cgroups-path',
    quote:
      'If the value is specified, the runtime MUST consistently attach to the same place in the cgroups hierarchy given the same value of cgroupsPath.',
    async run(t) {
      const seen = [];
      for (let i = 0; i < 2; i++) {
        const b = t.bundle();
        b.config.process.args = ['/bin/sleep', '1000'];
        b.config.linux.cgroupsPath = `tsrun-conformance-shared-${process.pid}-${t.suite.counter}`;
        if (i === 1) b.config.linux.cgroupsPath = seen[0].path;
        const c = t.create(b);
        if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
        const pid = t.state(b.id).pid;
        const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
        assert(cg.includes(b.config.linux.cgroupsPath), `container cgroups do not contain cgroupsPath: ${cg}`);
        seen.push({ path: b.config.linux.cgroupsPath, cg });
        t.delete(b.id, true);
      }
      eq(seen[1].cg, seen[0].cg, '/proc/PID/cgroup of two containers with the same cgroupsPath');
    },
  },
  {
    id: 'linux.resources.memory.limit',
    spec: 'config-linux.md#memory',
    quote: 'limit (int64, OPTIONAL) - sets limit of memory usage in bytes',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.linux.resources.memory = { limit: 64 * 1024 * 1024 };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const dirs = cgroupDirs(t.state(b.id).pid);
      const v1 = dirs.find((d) => d.controllers.split(',').includes('memory'));
      const file = v1
        ? path.join(v1.dir, 'memory.limit_in_bytes')
        : path.join(dirs.find((d) => d.controllers === 'unified').dir, 'memory.max');
      eq(fs.readFileSync(file, 'utf8').trim(), String(64 * 1024 * 1024), file);
    },
  },
  {
    id: 'linux.resources.pids.limit',
    spec: 'config-linux.md#pids',
    quote: 'limit (int64, REQUIRED) - specifies the maximum number of tasks in the cgroup',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/sleep', '1000'];
      b.config.linux.resources.pids = { limit: 42 };
      const c = t.create(b);
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const dirs = cgroupDirs(t.state(b.id).pid);
      const d =
        dirs.find((d) => d.controllers.split(',').includes('pids')) || dirs.find((d) => d.controllers === 'unified');
      eq(fs.readFileSync(path.join(d.dir, 'pids.max'), 'utf8').trim(), '42', `${d.dir}/pids.max`);
    },
  },
  {
    id: 'linux.sysctl',
    spec: 'config-linux.md#sysctl',
    quote: 'sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container.',
    async run(t) {
      const b = t.bundle();
      b.config.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '12345', 'net/ipv4/ip_default_ttl': '42' };
      const out = await t.script(
        b,
        'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_default_ttl',
      );
      eq(out, '1\n12345\n42\n', 'ip_forward, msgmax, ip_default_ttl');
    },
  },
  {
    id: 'linux.maskedPaths',
    spec: 'config-linux.md#masked-paths',
    quote:
      'maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read.',
    async run(t) {
      const b = t.bundle();
      fs.writeFileSync(path.join(b.outDir, 'secret'), 'secret\n');
      fs.mkdirSync(path.join(b.outDir, 'secretdir'));
      fs.writeFileSync(path.join(b.outDir, 'secretdir/f'), 'secret\n');
      b.config.linux.maskedPaths.push('/out/secret', '/out/secretdir', '/does/not/exist');
      const out = await t.script(
        b,
        'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c); echo file=$(cat /out/secret 2>/dev/null); echo dir=$(ls /out/secretdir 2>/dev/null); echo firmware=$(ls /sys/firmware 2>/dev/null)',
      );
      eq(out, 'kcore=0\nfile=\ndir=\nfirmware=\n', 'contents of masked paths');
    },
  },
  {
    id: 'linux.readonlyPaths',
    spec: 'config-linux.md#readonly-paths',
    quote: 'readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container.',
    async run(t) {
      const b = t.bundle();
      fs.mkdirSync(path.join(b.outDir, 'rodir'));
      b.config.linux.readonlyPaths.push('/out/rodir');
      const out = await t.script(
        b,
        'touch /out/rodir/x 2>/dev/null && echo rodir=writable || echo rodir=readonly; (echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo procsys=writable || echo procsys=readonly; touch /out/rw && echo out=writable',
      );
      eq(out, 'rodir=readonly\nprocsys=readonly\nout=writable\n', 'writes');
    },
  },
  propagationClause('shared', (o) => /shared:/.test(o), 'shared:N'),
  // A slave of a private mount is private (this host's / is private), so only "not shared" is checkable.
  propagationClause('slave', (o) => !/shared:|unbindable/.test(o), 'master:N or nothing'),
  propagationClause('private', (o) => !/shared:|master:|unbindable/.test(o), 'no propagation fields'),
  propagationClause('unbindable', (o) => /unbindable/.test(o), 'unbindable'),
  {
    id: 'linux.personality',
    spec: 'config-linux.md#personality',
    quote:
      'personality (object, OPTIONAL) sets the Linux execution personality. domain (string, REQUIRED) LINUX or LINUX32.',
    async run(t) {
      if (process.arch !== 'x64') skip(`LINUX32 check written for x86_64, host is ${process.arch}`);
      const b = t.bundle();
      b.config.linux.personality = { domain: 'LINUX32' };
      eq(await t.script(b, 'uname -m'), 'i686\n', 'uname -m under LINUX32');
    },
  },
];
