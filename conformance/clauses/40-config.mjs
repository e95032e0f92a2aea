// config.md — root, mounts, process, hostname, domainname, extensibility.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  assert,
  capMask,
  eq,
  fail,
  mountAt,
  mustFail,
  parseKv,
  parseMountinfo,
  parseStatus,
  skip,
} from '../lib/check.mjs';
import { sh } from '../lib/config.mjs';

/** create must fail, or (a runtime may defer some checks) start must fail. */
async function mustRefuse(t, b, what) {
  const c = t.create(b);
  if (c.code === 0) {
    const s = t.start(b.id);
    if (s.code === 0) fail(`${what}: create and start both succeeded`);
  }
}

const mountinfoOf = async (t, b) => parseMountinfo(await t.script(b, 'cat /proc/self/mountinfo'));

export const clauses = [
  {
    id: 'config.root.readonly',
    spec: 'config.md#root',
    quote:
      'readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false.',
    async run(t) {
      const b = t.bundle();
      const out = await t.script(
        b,
        'touch /probe 2>/dev/null && echo WRITABLE || echo READONLY; cat /proc/self/mountinfo',
      );
      assert(out.startsWith('READONLY'), `writing to / succeeded (root.readonly true)`);
      const root = mountAt(parseMountinfo(out.slice(out.indexOf('\n') + 1)), '/');
      assert(root?.mountOpts.has('ro'), `/ is not mounted ro: ${[...(root?.mountOpts || [])]}`);
    },
  },
  {
    id: 'config.root.writable-by-default',
    spec: 'config.md#root',
    quote:
      'readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container, defaults to false.',
    async run(t) {
      const b = t.bundle({ privateRootfs: true });
      delete b.config.root.readonly;
      const out = await t.script(b, 'echo hi > /probe && echo WROTE');
      eq(out, 'WROTE\n', 'writing to /');
      eq(fs.readFileSync(path.join(b.rootfs, 'probe'), 'utf8'), 'hi\n', 'file in the rootfs on the host');
    },
  },
  {
    id: 'config.root.path-relative',
    spec: 'config.md#root',
    quote:
      'path (string, REQUIRED) Specifies the path to the root filesystem for the container. ... On POSIX platforms, path is either an absolute path or a relative path to the bundle.',
    async run(t) {
      const b = t.bundle({ privateRootfs: true });
      b.config.root.path = 'rootfs';
      fs.writeFileSync(path.join(b.rootfs, 'marker'), 'relative-root\n');
      eq(await t.script(b, 'cat /marker'), 'relative-root\n', 'file read from the relative root');
    },
  },
  {
    id: 'config.mounts.order',
    spec: 'config.md#mounts',
    quote: 'The runtime MUST mount entries in the listed order.',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push(
        { destination: '/mnt/a', type: 'tmpfs', source: 'first', options: ['size=1m'] },
        { destination: '/mnt/a', type: 'tmpfs', source: 'second', options: ['size=2m'] },
        { destination: '/mnt/b', type: 'tmpfs', source: 'outer' },
        { destination: '/mnt/b/inner', type: 'tmpfs', source: 'inner' },
      );
      const mi = await mountinfoOf(t, b);
      eq(mountAt(mi, '/mnt/a')?.source, 'second', 'source of the visible mount at /mnt/a');
      eq(mountAt(mi, '/mnt/b/inner')?.source, 'inner', 'source of the mount at /mnt/b/inner (mounted inside /mnt/b)');
      const outer = mountAt(mi, '/mnt/b');
      eq(mountAt(mi, '/mnt/b/inner')?.parent, outer?.id, 'parent of /mnt/b/inner');
    },
  },
  {
    id: 'config.mounts.destination-relative',
    spec: 'config.md#mounts',
    quote:
      'For compatibility with old tools and configurations, it MAY be a relative path, in which case it MUST be interpreted as relative to "/".',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({ destination: 'mnt/c', type: 'tmpfs', source: 'relative-dest' });
      eq(mountAt(await mountinfoOf(t, b), '/mnt/c')?.source, 'relative-dest', 'mount at /mnt/c');
    },
  },
  {
    id: 'config.mounts.bind-source-relative',
    spec: 'config.md#mounts',
    quote:
      'Path values for bind mounts are either absolute or relative to the bundle. A mount is a bind mount if it has either bind or rbind in the options.',
    async run(t) {
      const b = t.bundle();
      fs.mkdirSync(path.join(b.dir, 'data'));
      fs.writeFileSync(path.join(b.dir, 'data/file'), 'from-bundle\n');
      b.config.mounts.push({ destination: '/mnt/a', type: 'none', source: 'data', options: ['bind'] });
      eq(await t.script(b, 'cat /mnt/a/file'), 'from-bundle\n', 'file read through the bind mount');
    },
  },
  {
    id: 'config.mounts.options.flags',
    spec: 'config.md#linux-mount-options',
    quote:
      'Runtimes MUST/SHOULD/MAY implement the following option strings for Linux: ro, nosuid, nodev, noexec, noatime, nodiratime ... MUST',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({
        destination: '/mnt/a',
        type: 'tmpfs',
        source: 'flags',
        options: ['ro', 'nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime'],
      });
      b.config.mounts.push({
        destination: '/mnt/b',
        type: 'tmpfs',
        source: 'flags2',
        options: ['rw', 'suid', 'dev', 'exec', 'strictatime'],
      });
      const mi = await mountinfoOf(t, b);
      const a = mountAt(mi, '/mnt/a');
      for (const o of ['ro', 'nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime'])
        assert(a?.mountOpts.has(o), `/mnt/a lacks ${o}: ${[...(a?.mountOpts || [])]}`);
      const m = mountAt(mi, '/mnt/b');
      assert(m?.mountOpts.has('rw'), `/mnt/b not rw: ${[...(m?.mountOpts || [])]}`);
      for (const o of ['nosuid', 'nodev', 'noexec', 'noatime', 'relatime'])
        assert(!m?.mountOpts.has(o), `/mnt/b has ${o}: ${[...m.mountOpts]}`);
    },
  },
  {
    id: 'config.mounts.options.data',
    spec: 'config.md#linux-mount-options',
    quote:
      'options (array of strings, OPTIONAL) Mount options of the filesystem to be used. (options not in the table are filesystem data)',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({
        destination: '/mnt/a',
        type: 'tmpfs',
        source: 'data',
        options: ['mode=0710', 'size=3m', 'nosuid'],
      });
      const m = mountAt(await mountinfoOf(t, b), '/mnt/a');
      // tmpfs reports the data it was mounted with (runc chmods the root afterwards, so not stat).
      assert(
        m?.superOpts.has('mode=710') && m.superOpts.has('size=3072k'),
        `tmpfs data mode=0710,size=3m not applied: ${[...(m?.superOpts || [])]}`,
      );
    },
  },
  {
    id: 'config.mounts.options.bind-ro',
    spec: 'config.md#linux-mount-options',
    quote: 'bind | MUST | Bind mount; ro | MUST',
    async run(t) {
      const b = t.bundle();
      const src = path.join(b.dir, 'robind');
      fs.mkdirSync(src);
      b.config.mounts.push({ destination: '/mnt/a', type: 'bind', source: src, options: ['bind', 'ro'] });
      const out = await t.script(
        b,
        'touch /mnt/a/x 2>/dev/null && echo WROTE || echo REFUSED; grep " /mnt/a " /proc/self/mountinfo',
      );
      assert(out.startsWith('REFUSED'), `write to the ro bind mount: ${out}`);
      assert(/ \/mnt\/a ro[, ]/.test(out), `mount not ro: ${out}`);
      assert(!fs.existsSync(path.join(src, 'x')), 'file created on the host');
    },
  },
  {
    id: 'config.mounts.options.bind-vs-rbind',
    spec: 'config.md#linux-mount-options',
    quote: 'bind | MUST | Bind mount; rbind | MUST | Recursive bind mount',
    async run(t) {
      const b = t.bundle();
      const src = path.join(b.dir, 'tree');
      fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'conformance-sub', path.join(src, 'sub')]);
      if (m.status !== 0) skip('cannot mount a tmpfs on the host');
      t.trackMount(path.join(src, 'sub'));
      fs.writeFileSync(path.join(src, 'sub/f'), 'in-submount\n');
      b.config.mounts.push({ destination: '/mnt/a', type: 'bind', source: src, options: ['bind'] });
      b.config.mounts.push({ destination: '/mnt/b', type: 'bind', source: src, options: ['rbind'] });
      const out = await t.script(
        b,
        'cat /mnt/a/sub/f 2>/dev/null || echo NONE; cat /mnt/b/sub/f 2>/dev/null || echo NONE',
      );
      eq(out, 'NONE\nin-submount\n', 'submount seen through bind (/mnt/a) and rbind (/mnt/b)');
    },
  },
  {
    id: 'config.mounts.options.propagation',
    spec: 'config.md#linux-mount-options',
    quote: 'shared, rshared, private, rprivate, unbindable, runbindable | MUST | Bind mount propagation',
    async run(t) {
      const b = t.bundle();
      const src = path.join(b.dir, 'prop');
      fs.mkdirSync(src);
      b.config.mounts.push({ destination: '/mnt/a', type: 'bind', source: src, options: ['rbind', 'rshared'] });
      b.config.mounts.push({ destination: '/mnt/b', type: 'bind', source: src, options: ['rbind', 'rprivate'] });
      b.config.mounts.push({ destination: '/mnt/c', type: 'bind', source: src, options: ['rbind', 'runbindable'] });
      const mi = await mountinfoOf(t, b);
      const opt = (p) => mountAt(mi, p)?.optional.join(' ') ?? 'missing';
      assert(/shared:/.test(opt('/mnt/a')), `/mnt/a (rshared) optional fields: "${opt('/mnt/a')}"`);
      assert(
        !/shared:|master:|unbindable/.test(opt('/mnt/b')),
        `/mnt/b (rprivate) optional fields: "${opt('/mnt/b')}"`,
      );
      assert(/unbindable/.test(opt('/mnt/c')), `/mnt/c (runbindable) optional fields: "${opt('/mnt/c')}"`);
    },
  },
  {
    id: 'config.mounts.options.nosymfollow',
    spec: 'config.md#linux-mount-options',
    quote: 'nosymfollow | MUST',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({ destination: '/mnt/a', type: 'tmpfs', source: 'nsf', options: ['nosymfollow'] });
      const line = (await t.script(b, 'grep " /mnt/a " /proc/self/mountinfo')).trim();
      assert(/nosymfollow/.test(line.split(' ')[5]), `nosymfollow not set: ${line}`);
    },
  },
  {
    id: 'config.process.args',
    spec: 'config.md#process',
    quote:
      "args (array of strings, OPTIONAL) with similar semantics to execvp's argv. ... at least one entry is REQUIRED, and that entry is used with the same semantics as execvp's file.",
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['echo', 'a  b', '', 'c'];
      b.config.process.env = ['PATH=/bin'];
      eq((await t.run(b)).stdout, 'a  b  c\n', 'output of echo found through PATH');
    },
  },
  {
    id: 'config.process.args-required',
    spec: 'config.md#process',
    quote: 'This specification extends the IEEE standard in that at least one entry is REQUIRED (non-Windows)',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = [];
      await mustRefuse(t, b, 'empty process.args');
    },
  },
  {
    id: 'config.process.env',
    spec: 'config.md#process',
    quote: "env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008's environ.",
    async run(t) {
      const b = t.bundle();
      b.config.process.args = ['/bin/env'];
      b.config.process.env = ['PATH=/bin', 'FOO=bar baz', 'EMPTY=', 'EQ=a=b'];
      const lines = (await t.run(b)).stdout.trim().split('\n').sort();
      for (const e of b.config.process.env)
        assert(lines.includes(e), `${e} missing from the environment: ${lines.join(' | ')}`);
      assert(
        !lines.some((l) => l.startsWith('CONFORMANCE_RUNTIME_ENV=')),
        `environment inherited from the runtime: ${lines.join(' | ')}`,
      );
    },
  },
  {
    id: 'config.process.cwd',
    spec: 'config.md#process',
    quote: 'cwd (string, REQUIRED) is the working directory that will be set for the executable.',
    async run(t) {
      const b = t.bundle();
      b.config.process.cwd = '/tmp';
      eq(await t.script(b, 'pwd'), '/tmp\n', 'working directory');
    },
  },
  {
    id: 'config.process.cwd-created',
    spec: 'config.md#process',
    quote:
      'cwd (string, REQUIRED) is the working directory that will be set for the executable. (runc creates a missing cwd)',
    async run(t) {
      const b = t.bundle();
      b.config.mounts.push({ destination: '/mnt/a', type: 'tmpfs', source: 'cwd' });
      b.config.process.cwd = '/mnt/a/does/not/exist';
      eq(await t.script(b, 'pwd'), '/mnt/a/does/not/exist\n', 'working directory');
    },
  },
  {
    id: 'config.process.cwd-absolute',
    spec: 'config.md#process',
    quote:
      'cwd ... This value MUST be an absolute path. / Runtimes MUST generate an error when invalid or unsupported values are encountered.',
    async run(t) {
      const b = t.bundle();
      b.config.process.cwd = 'tmp';
      await mustRefuse(t, b, 'relative process.cwd');
    },
  },
  {
    id: 'config.process.user',
    spec: 'config.md#posix-platform-user',
    quote:
      'uid (int, REQUIRED) specifies the user ID in the container namespace. gid (int, REQUIRED) ... additionalGids (array of ints, OPTIONAL) specifies additional group IDs in the container namespace to be added to the process.',
    async run(t) {
      const b = t.bundle();
      b.config.process.user = { uid: 65534, gid: 65534, additionalGids: [5, 100] };
      const st = parseStatus(await t.script(b, 'cat /proc/self/status'));
      eq(st.Uid, '65534\t65534\t65534\t65534', 'Uid (real, effective, saved, fs)');
      eq(st.Gid, '65534\t65534\t65534\t65534', 'Gid (real, effective, saved, fs)');
      eq(st.Groups?.split(' ').filter(Boolean).sort().join(' '), '100 5', 'supplementary groups');
    },
  },
  {
    id: 'config.process.user.umask',
    spec: 'config.md#posix-platform-user',
    quote: 'umask (int, OPTIONAL) specifies the umask of the user.',
    async run(t) {
      const b = t.bundle();
      b.config.process.user.umask = 0o027;
      eq(parseStatus(await t.script(b, 'cat /proc/self/status')).Umask, '0027', 'Umask');
    },
  },
  {
    id: 'config.process.rlimits',
    spec: 'config.md#posix-process',
    quote:
      'For each entry in rlimits, a getrlimit(3) on type MUST succeed. ... rlim.rlim_cur MUST match the configured value. ... rlim.rlim_max MUST match the configured value.',
    async run(t) {
      const b = t.bundle();
      b.config.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 768 },
        { type: 'RLIMIT_NPROC', soft: 1000, hard: 2000 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      ];
      const limits = await t.script(b, 'cat /proc/self/limits');
      const row = (name) =>
        limits
          .split('\n')
          .find((l) => l.startsWith(name))
          ?.slice(26)
          .trim()
          .split(/\s+/)
          .slice(0, 2)
          .join(' ');
      eq(row('Max open files'), '512 768', 'RLIMIT_NOFILE soft hard');
      eq(row('Max processes'), '1000 2000', 'RLIMIT_NPROC soft hard');
      eq(row('Max core file size'), '0 4096', 'RLIMIT_CORE soft hard');
    },
  },
  {
    id: 'config.process.rlimits.unknown-type',
    spec: 'config.md#posix-process',
    quote: 'The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface.',
    async run(t) {
      const b = t.bundle();
      b.config.process.rlimits = [{ type: 'RLIMIT_NO_SUCH_LIMIT', soft: 1, hard: 1 }];
      await mustRefuse(t, b, 'unknown rlimit type');
    },
  },
  {
    id: 'config.process.rlimits.duplicate',
    spec: 'config.md#posix-process',
    quote: 'If rlimits contains duplicated entries with same type, the runtime MUST generate an error.',
    async run(t) {
      const b = t.bundle();
      b.config.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 512 },
        { type: 'RLIMIT_NOFILE', soft: 256, hard: 256 },
      ];
      await mustRefuse(t, b, 'duplicate rlimit type');
    },
  },
  {
    id: 'config.process.capabilities',
    spec: 'config.md#linux-process',
    quote:
      'capabilities (object, OPTIONAL) is an object containing arrays that specifies the sets of capabilities for the process.',
    async run(t) {
      const b = t.bundle();
      const set = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'];
      b.config.process.capabilities = { bounding: set, effective: set, permitted: set, inheritable: ['CAP_KILL'] };
      const st = parseStatus(await t.script(b, 'cat /proc/self/status'));
      eq(st.CapBnd, capMask(set), 'CapBnd');
      eq(st.CapEff, capMask(set), 'CapEff');
      eq(st.CapPrm, capMask(set), 'CapPrm');
      eq(st.CapInh, capMask(['CAP_KILL']), 'CapInh');
      eq(st.CapAmb, capMask([]), 'CapAmb');
    },
  },
  {
    id: 'config.process.capabilities.ambient',
    spec: 'config.md#linux-process',
    quote:
      'ambient (array of strings, OPTIONAL) the ambient field is an array of ambient capabilities that are kept for the process.',
    async run(t) {
      const b = t.bundle();
      const set = ['CAP_NET_BIND_SERVICE', 'CAP_KILL'];
      b.config.process.user = { uid: 1000, gid: 1000 };
      b.config.process.capabilities = {
        bounding: set,
        effective: set,
        permitted: set,
        inheritable: set,
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
      const st = parseStatus(await t.script(b, 'cat /proc/self/status'));
      eq(st.CapAmb, capMask(['CAP_NET_BIND_SERVICE']), 'CapAmb of a non-root process');
      eq(st.CapEff, capMask(['CAP_NET_BIND_SERVICE']), 'CapEff of a non-root process (ambient survives execve)');
      eq(st.CapBnd, capMask(set), 'CapBnd');
    },
  },
  {
    id: 'config.process.noNewPrivileges.true',
    spec: 'config.md#linux-process',
    quote:
      'noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges.',
    async run(t) {
      const b = t.bundle();
      b.config.process.noNewPrivileges = true;
      eq(parseStatus(await t.script(b, 'cat /proc/self/status')).NoNewPrivs, '1', 'NoNewPrivs');
    },
  },
  {
    id: 'config.process.noNewPrivileges.false',
    spec: 'config.md#linux-process',
    quote:
      'noNewPrivileges (bool, OPTIONAL) setting noNewPrivileges to true prevents the process from gaining additional privileges.',
    async run(t) {
      const b = t.bundle();
      b.config.process.noNewPrivileges = false;
      eq(parseStatus(await t.script(b, 'cat /proc/self/status')).NoNewPrivs, '0', 'NoNewPrivs');
    },
  },
  {
    id: 'config.process.oomScoreAdj',
    spec: 'config.md#linux-process',
    quote: 'If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value.',
    async run(t) {
      const b = t.bundle();
      b.config.process.oomScoreAdj = 123;
      eq(await t.script(b, 'cat /proc/self/oom_score_adj'), '123\n', 'oom_score_adj');
    },
  },
  {
    id: 'config.process.oomScoreAdj.unset',
    spec: 'config.md#linux-process',
    quote: 'If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj.',
    async run(t) {
      const b = t.bundle();
      b.config.process.args = sh('cat /proc/self/oom_score_adj');
      // The runtime is started with oom_score_adj 7; the container must keep it.
      const c = t.create(b, { wrap: 'echo 7 > /proc/self/oom_score_adj' });
      if (c.code !== 0) fail(`create failed: ${t.stderr(b).trim().slice(-300)}`);
      const s = t.start(b.id);
      if (s.code !== 0) fail(`start failed: ${s.stderr}`);
      await t.waitStatus(b.id, 'stopped');
      eq(t.stdout(b), '7\n', 'oom_score_adj');
    },
  },
  {
    id: 'config.process.terminal',
    spec: 'config.md#process',
    quote:
      "terminal (bool, OPTIONAL) ... if set to true on Linux a pseudoterminal pair is allocated for the process and the pseudoterminal pty is duplicated on the process's standard streams.",
    async run(t) {
      if (!fs.existsSync('/usr/bin/script')) skip('needs script(1) from bsdutils to give the runtime a terminal');
      const b = t.bundle();
      b.config.process.terminal = true;
      b.config.process.args = sh(
        'a=$(tty); b=$(readlink /proc/$$/fd/1); c=$(readlink /proc/$$/fd/2); d=$(stat -c %t /dev/console); printf "%s\\n" "$a" "$b" "$c" "$d" > /out/tty',
      );
      t.writeConfig(b);
      t.ids.push(b.id);
      const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
      const cmd = `${q(t.rt.binary)} --root ${q(t.rt.stateRoot)} run --bundle ${q(b.dir)} ${q(b.id)}`;
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
        env: t.rt.env,
        encoding: 'utf8',
        timeout: 20000,
        stdio: ['pipe', 'pipe', 'pipe'],
        input: '',
      });
      const out = t.out(b, 'tty');
      if (out === null) fail(`container did not run (exit ${r.status}): ${(r.stdout + r.stderr).trim().slice(-300)}`);
      const [tty, fd1, fd2, consoleMajor] = out.trim().split('\n');
      assert(/^\/dev\/pts\/\d+$/.test(tty), `stdin is not a pty: ${tty}`);
      eq(fd1, tty, 'stdout');
      eq(fd2, tty, 'stderr');
      eq(consoleMajor, '88', '/dev/console major (hex of 136, a pty)');
    },
  },
  {
    id: 'config.hostname',
    spec: 'config.md#hostname',
    quote:
      "hostname (string, OPTIONAL) specifies the container's hostname as seen by processes running inside the container.",
    async run(t) {
      const b = t.bundle();
      b.config.hostname = 'conformance-host';
      eq(await t.script(b, 'hostname'), 'conformance-host\n', 'hostname');
    },
  },
  {
    id: 'config.domainname',
    spec: 'config.md#domainname',
    quote:
      "domainname (string, OPTIONAL) specifies the container's domainname as seen by processes running inside the container.",
    async run(t) {
      const b = t.bundle();
      b.config.domainname = 'conformance.test';
      eq(await t.script(b, 'cat /proc/sys/kernel/domainname'), 'conformance.test\n', 'domainname');
    },
  },
  {
    id: 'config.extensibility.unknown-properties',
    spec: 'config.md#extensibility',
    quote: 'Runtimes MAY log unknown properties but MUST otherwise ignore them.',
    async run(t) {
      const b = t.bundle();
      b.config['org.example.unknown'] = { nested: [1, 2] };
      b.config.process['org.example.field'] = 'x';
      b.config.linux['org.example.field'] = true;
      eq(await t.script(b, 'echo ok'), 'ok\n', 'container output');
    },
  },
  {
    id: 'config.extensibility.invalid-value',
    spec: 'config.md#valid-values',
    quote: 'Runtimes MUST generate an error when invalid or unsupported values are encountered.',
    async run(t) {
      const b = t.bundle();
      b.config.linux.namespaces.push({ type: 'no-such-namespace' });
      await mustRefuse(t, b, 'unknown namespace type');
    },
  },
];
