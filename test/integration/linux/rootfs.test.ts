// Real-kernel tests of the rootfs set-up. Each case runs test/fixtures/linux/rootfs.ts as
// pid 1 of new mount/pid/uts(/net/user) namespaces made by unshare(1), on a
// busybox rootfs in a temp dir, and checks what the container sees.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  rmSync,
  writeFileSync,
  readFileSync,
  symlinkSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec, Mount } from '../../../src/spec/types';
import { parseMountinfo, type MountinfoEntry } from '../../../src/linux/cgroup-mount';
import { mountsUnder, REPO, FIXTURES } from '../../helpers/harness';
import { isRoot } from '../../helpers/root';
import type { Probe } from '../../fixtures/linux/rootfs';
import { skipBecause } from '../../helpers/skip';

const repo = REPO;
const fixture = join(FIXTURES, 'linux', 'rootfs.ts');

interface Report {
  ok: boolean;
  error?: string;
  hostname?: string;
  cwd?: string;
  mountinfo?: string;
  probes?: Probe[];
}

function canRun(): string | undefined {
  if (!isRoot) return 'needs root (mount namespaces, mknod, pivot_root)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare(1) not available';
  if (!existsSync('/bin/busybox')) return '/bin/busybox missing: apt-get install busybox-static';
  return undefined;
}

function makeBundle(t: tap.Test): { bundle: string; rootfs: string } {
  const bundle = mkdtempSync(join(tmpdir(), 'tsrun-rootfs-test-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  const r = spawnSync('sh', [join(repo, 'hack', 'mkrootfs.sh'), rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkrootfs.sh failed: ${r.stderr}`);
  return { bundle, rootfs };
}

/** runc's default spec, trimmed to what the rootfs code uses. */
function baseConfig(extra: Partial<Spec> = {}, mounts: Mount[] = []): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    hostname: 'tsrun-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...mounts,
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }] },
    ...extra,
  } as Spec;
}

interface RunOptions {
  noPivot?: boolean;
  userns?: boolean;
  unshare?: string[];
  /** Shell run inside the new mount namespace before the fixture (e.g. to add submounts). */
  pre?: string;
}

function run(
  t: tap.Test,
  bundle: string,
  rootfs: string,
  config: Spec,
  probes: string[],
  opts: RunOptions = {},
): Report {
  const planFile = join(bundle, 'plan.json');
  writeFileSync(
    planFile,
    JSON.stringify({ rootfs, bundle, config, noPivot: !!opts.noPivot, userns: !!opts.userns, mountNs: true, probes }),
  );
  const nodeCmd = `exec "${process.execPath}" --import tsx "${fixture}" "${planFile}"`;
  const script = opts.pre ? `${opts.pre} && ${nodeCmd}` : nodeCmd;
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // tap's ts-node loader must not follow into the fixture
  const r = spawnSync(
    'unshare',
    [...(opts.unshare ?? ['--mount', '--uts', '--pid', '--fork']), '--propagation', 'unchanged', 'sh', '-c', script],
    {
      cwd: repo,
      encoding: 'utf8',
      env,
    },
  );
  t.same(mountsUnder([rootfs, bundle]), [], 'nothing leaked into the host mount table below the test dirs');
  if (r.status !== 0 || !r.stdout) throw new Error(`fixture failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

function mounts(report: Report): Map<string, MountinfoEntry & { opts: string[] }> {
  const out = new Map<string, MountinfoEntry & { opts: string[] }>();
  const lines = (report.mountinfo ?? '').split('\n').filter(Boolean);
  const parsed = parseMountinfo(report.mountinfo ?? '');
  parsed.forEach((e, i) => out.set(e.mountpoint, { ...e, opts: lines[i].split(' ')[5].split(',') }));
  return out;
}

/** The wanted mount options that `have` lacks (order-insensitive). */
function missing(have: string[] | undefined, wanted: string[]): string[] {
  return wanted.filter((w) => !(have ?? []).includes(w));
}

function probeOf(report: Report, path: string): Probe {
  const p = report.probes?.find((x) => x.path === path);
  if (!p) throw new Error(`no probe for ${path}`);
  return p;
}

const skip = canRun();
if (skip) {
  skipBecause(t, `rootfs tests: ${skip}`);
} else {
  t.test('runc default spec: mounts, devices, links, masked/readonly paths, hostname', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const config = baseConfig({
      root: { path: 'rootfs', readonly: true },
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }],
        maskedPaths: ['/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/does-not-exist'],
        readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger', '/proc/nope'],
      },
    });
    const devs = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
    const links = ['/dev/ptmx', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr'];
    const report = run(t, bundle, rootfs, config, [
      ...devs,
      ...links,
      '/proc/keys',
      '/proc/timer_list',
      '/sys/firmware',
      '/proc/sys/kernel/hostname',
      '/',
      '/tmp',
    ]);
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    t.equal(report.hostname, 'tsrun-test');
    t.equal(report.cwd, '/');
    const m = mounts(report);
    t.ok(m.get('/')?.opts.includes('ro'), 'root.readonly: / is ro');
    t.equal(probeOf(report, '/tmp').writeError, 'EROFS', 'writing below a read-only root fails');
    t.same(missing(m.get('/sys')?.opts, ['ro', 'nosuid', 'nodev', 'noexec']), [], '/sys flags');
    t.same(missing(m.get('/dev/shm')?.opts, ['rw', 'nosuid', 'nodev', 'noexec']), [], '/dev/shm flags');
    t.equal(m.get('/dev')?.fstype, 'tmpfs');
    t.notOk(m.get('/dev')?.opts.includes('relatime'), '/dev strictatime');
    t.equal(m.get('/dev/pts')?.fstype, 'devpts');
    t.ok(m.get('/dev/pts')?.superOptions.includes('ptmxmode=666'));
    const expected: Record<string, [number, number]> = {
      '/dev/null': [1, 3],
      '/dev/zero': [1, 5],
      '/dev/full': [1, 7],
      '/dev/random': [1, 8],
      '/dev/urandom': [1, 9],
      '/dev/tty': [5, 0],
    };
    for (const d of devs) {
      const p = probeOf(report, d);
      t.match(
        p,
        { kind: 'char', major: expected[d][0], minor: expected[d][1], mode: 0o666, uid: 0, gid: 0 },
        `${d} node`,
      );
    }
    t.match(probeOf(report, '/dev/ptmx'), { kind: 'symlink', link: 'pts/ptmx' });
    t.match(probeOf(report, '/dev/fd'), { kind: 'symlink', link: '/proc/self/fd' });
    t.match(probeOf(report, '/dev/stdin'), { kind: 'symlink', link: '/proc/self/fd/0' });
    t.match(probeOf(report, '/dev/stdout'), { kind: 'symlink', link: '/proc/self/fd/1' });
    t.match(probeOf(report, '/dev/stderr'), { kind: 'symlink', link: '/proc/self/fd/2' });
    for (const masked of ['/proc/keys', '/proc/timer_list']) {
      t.match(
        probeOf(report, masked),
        { kind: 'char', major: 1, minor: 3, content: '' },
        `${masked} is /dev/null and reads empty`,
      );
    }
    t.same(probeOf(report, '/sys/firmware').entries, [], 'masked dir is empty');
    t.equal(probeOf(report, '/sys/firmware').writeError, 'EROFS', 'masked dir is read-only');
    t.equal(m.get('/sys/firmware')?.fstype, 'tmpfs');
    t.ok(m.get('/proc/sys')?.opts.includes('ro'), '/proc/sys is a read-only mount');
    t.equal(probeOf(report, '/proc/sys/kernel/hostname').writeError, 'EROFS', 'readonly path: write fails with EROFS');
    if (existsSync('/proc/sysrq-trigger'))
      t.ok(m.get('/proc/sysrq-trigger')?.opts.includes('ro'), 'readonly file path');
    t.notOk(existsSync(join(rootfs, 'dev', 'null')), 'devices live in the /dev tmpfs, not the rootfs directory');
    t.end();
  });

  t.test('symlinks in the rootfs cannot send a mount outside it', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const tag = `tsrun-escape-${process.pid}-${Date.now()}`;
    symlinkSync('/etc', join(rootfs, 'hostetc'));
    symlinkSync('../../../../../../etc', join(rootfs, 'up'));
    mkdirSync(join(rootfs, 'etc', 'sub'), { recursive: true });
    const src = join(bundle, 'file-src');
    writeFileSync(src, 'bound\n');
    const config = baseConfig({}, [
      { destination: `/hostetc/${tag}-dir`, type: 'tmpfs', source: 'tmpfs' },
      { destination: `/up/${tag}-file`, type: 'bind', source: 'file-src', options: ['bind', 'ro'] },
      { destination: `../../../etc/sub/${tag}-rel`, type: 'tmpfs', source: 'tmpfs' },
    ]);
    t.teardown(() => {
      for (const n of [`${tag}-dir`, `${tag}-file`]) rmSync(join('/etc', n), { recursive: true, force: true });
    });
    const report = run(t, bundle, rootfs, config, [`/etc/${tag}-dir`, `/etc/${tag}-file`, `/etc/sub/${tag}-rel`]);
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    t.notOk(existsSync(`/etc/${tag}-dir`), 'host /etc untouched (absolute symlink)');
    t.notOk(existsSync(`/etc/${tag}-file`), 'host /etc untouched (relative ../ symlink)');
    t.ok(existsSync(join(rootfs, 'etc', `${tag}-dir`)), 'target created inside the rootfs instead');
    const m = mounts(report);
    t.equal(m.get(`/etc/${tag}-dir`)?.fstype, 'tmpfs', 'mounted at the in-root resolution of the symlink');
    t.equal(
      probeOf(report, `/etc/${tag}-file`).content,
      'bound\n',
      'bind of a file onto an in-root file (relative source from bundle)',
    );
    t.equal(probeOf(report, `/etc/${tag}-file`).writeError, 'EROFS', 'bind ro remount applied');
    t.equal(m.get(`/etc/sub/${tag}-rel`)?.fstype, 'tmpfs', '.. in a destination stays inside the rootfs');
    t.end();
  });

  t.test('bind options, recursive attributes, propagation, tmpcopyup, devices, sysctl', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const vol = join(bundle, 'vol');
    mkdirSync(join(vol, 'sub'), { recursive: true });
    mkdirSync(join(rootfs, 'opt'), { mode: 0o750 });
    writeFileSync(join(rootfs, 'opt', 'hello'), 'copied up\n', { mode: 0o640 });
    symlinkSync('hello', join(rootfs, 'opt', 'link'));
    const config = baseConfig(
      {
        domainname: 'example.test',
        linux: {
          namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }],
          sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'sysctl.test' },
          readonlyPaths: ['/proc/sys'], // sysctl must be written before this

          devices: [
            { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1001 },
            { path: '/dev/sub/loopish', type: 'b', major: 7, minor: 200, fileMode: 0o640 },
            { path: '/dev/myfifo', type: 'p', fileMode: 0o620 },
            { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o644 },
          ],
        },
      },
      [
        {
          destination: '/mnt/plain',
          type: 'bind',
          source: vol,
          options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec', 'noatime'],
        },
        { destination: '/mnt/rro', type: 'bind', source: vol, options: ['rbind', 'rro', 'rnosuid'] },
        { destination: '/mnt/rattr', type: 'none', source: vol, options: ['rbind', 'rnoexec', 'rnoatime', 'rnodev'] },
        { destination: '/mnt/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
        { destination: '/mnt/unbindable', type: 'tmpfs', source: 'tmpfs', options: ['runbindable'] },
        { destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nodev', 'ro'] },
        // podman --read-only's /run: a destination the image lacks
        { destination: '/mnt/newcopy', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid'] },
        {
          destination: '/mnt/opts',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'sync', 'dirsync', 'nodiratime', 'size=1m', 'nr_inodes=1k'],
        },
      ],
    );
    const report = run(
      t,
      bundle,
      rootfs,
      config,
      [
        '/dev/mynull',
        '/dev/sub/loopish',
        '/dev/myfifo',
        '/dev/null',
        '/opt',
        '/opt/hello',
        '/opt/link',
        '/mnt/newcopy',
        '/proc/sys/net/ipv4/ip_forward',
        '/proc/sys/kernel/domainname',
        '/mnt/rro/sub',
      ],
      {
        unshare: ['--mount', '--uts', '--pid', '--net', '--fork'],
        pre: `mount -t tmpfs sub "${vol}/sub"`,
      },
    );
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    const m = mounts(report);
    t.same(
      missing(m.get('/mnt/plain')?.opts, ['ro', 'nosuid', 'nodev', 'noexec', 'noatime']),
      [],
      'bind remount flags on the top mount',
    );
    t.notOk(m.get('/mnt/plain/sub')?.opts.includes('ro'), 'non-recursive ro leaves the submount writable (like runc)');
    t.ok(m.get('/mnt/rro')?.opts.includes('ro'), 'rro on top');
    t.same(missing(m.get('/mnt/rro/sub')?.opts, ['ro', 'nosuid']), [], 'rro/rnosuid reach the submount');
    t.equal(probeOf(report, '/mnt/rro/sub').writeError, 'EROFS');
    t.same(
      missing(m.get('/mnt/rattr/sub')?.opts, ['rw', 'nodev', 'noexec', 'noatime']),
      [],
      'rnoexec/rnoatime/rnodev reach the submount (type ignored with rbind)',
    );
    t.ok(
      m.get('/mnt/shared')?.optional.some((o) => o.startsWith('shared:')),
      'shared propagation',
    );
    t.ok(m.get('/mnt/unbindable')?.optional.includes('unbindable'), 'unbindable propagation');
    t.same(missing(m.get('/mnt/opts')?.opts, ['rw', 'nosuid', 'nodiratime']), [], 'nosuid/nodiratime');
    t.same(missing(m.get('/mnt/opts')?.superOptions, ['sync', 'dirsync']), [], 'sync/dirsync (superblock flags)');
    t.ok(m.get('/mnt/opts')?.superOptions.includes('size=1024k'), 'unknown options become data');
    t.equal(m.get('/opt')?.fstype, 'tmpfs');
    t.same(missing(m.get('/opt')?.opts, ['ro', 'nodev']), [], 'tmpcopyup tmpfs remounted ro');
    t.equal(probeOf(report, '/opt/hello').content, 'copied up\n', 'tmpcopyup copied the content');
    t.equal(probeOf(report, '/opt/hello').mode, 0o640, 'tmpcopyup kept the mode');
    t.match(probeOf(report, '/opt/link'), { kind: 'symlink', link: 'hello' });
    t.equal(probeOf(report, '/opt').mode, 0o750, 'tmpcopyup kept the directory mode');
    // It was mode 0 (the O_PATH fd's magic link), and a process without CAP_DAC_OVERRIDE could not enter it.
    t.equal(probeOf(report, '/mnt/newcopy').mode, 0o1777, "tmpcopyup on a new directory: tmpfs's own mode, as runc");
    t.match(probeOf(report, '/dev/mynull'), { kind: 'char', major: 1, minor: 3, mode: 0o600, uid: 1000, gid: 1001 });
    t.match(probeOf(report, '/dev/sub/loopish'), { kind: 'block', major: 7, minor: 200, mode: 0o640 });
    t.match(probeOf(report, '/dev/myfifo'), { kind: 'fifo', mode: 0o620 });
    t.match(probeOf(report, '/dev/null'), { kind: 'char', mode: 0o644 }, 'configured /dev/null replaces the default');
    t.equal(probeOf(report, '/proc/sys/net/ipv4/ip_forward').content, '1\n', 'sysctl written');
    t.equal(probeOf(report, '/proc/sys/kernel/domainname').content, 'sysctl.test\n', 'sysctl after domainname');
    t.end();
  });

  t.test('cgroup mount: the container cgroup of each v1 hierarchy, read-only', (t) => {
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    if (!/^\d+:memory:/m.test(own)) return (skipBecause(t, 'no v1 memory hierarchy on this host'), t.end());
    const { bundle, rootfs } = makeBundle(t);
    const config = baseConfig({}, [
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ]);
    const report = run(t, bundle, rootfs, config, ['/sys/fs/cgroup']);
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    const m = mounts(report);
    const memPath = /^\d+:memory:(.*)$/m.exec(own)![1];
    t.equal(m.get('/sys/fs/cgroup')?.fstype, 'tmpfs');
    t.equal(m.get('/sys/fs/cgroup/memory')?.fstype, 'cgroup');
    t.equal(m.get('/sys/fs/cgroup/memory')?.root, memPath, "bind of the container's own memory cgroup");
    t.match(m.get('/sys/fs/cgroup/memory')?.opts, ['ro', 'nosuid', 'nodev', 'noexec']);
    t.ok(probeOf(report, '/sys/fs/cgroup').entries?.includes('memory'));
    t.end();
  });

  t.test('noPivot: MS_MOVE + chroot', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const report = run(t, bundle, rootfs, baseConfig(), ['/bin', '/dev/null'], { noPivot: true });
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    t.equal(report.cwd, '/');
    t.ok(probeOf(report, '/bin').entries?.includes('busybox'), 'the rootfs is /');
    t.match(probeOf(report, '/dev/null'), { kind: 'char', major: 1, minor: 3 });
    t.end();
  });

  t.test('rootfsPropagation shared is applied to / after pivot', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const config = baseConfig({ linux: { namespaces: [{ type: 'mount' }], rootfsPropagation: 'shared' } });
    const report = run(t, bundle, rootfs, config, []);
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    t.ok(
      mounts(report)
        .get('/')
        ?.optional.some((o) => o.startsWith('shared:')),
      '/ is shared',
    );
    t.end();
  });

  t.test('user namespace: devices bind-mounted from the host', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    const config = baseConfig({ root: { path: 'rootfs', readonly: true } }, [
      { destination: '/mnt/ro', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] },
    ]);
    // As in runc's rootless spec: gid 5 is not mapped in this user namespace.
    const devpts = config.mounts!.find((m) => m.destination === '/dev/pts')!;
    devpts.options = devpts.options!.filter((o) => o !== 'gid=5');
    const report = run(t, bundle, rootfs, config, ['/dev/null', '/dev/tty'], {
      userns: true,
      unshare: ['--user', '--map-root-user', '--mount', '--uts', '--pid', '--net', '--fork'],
    });
    t.ok(report.ok, report.error ?? 'set-up succeeded');
    const m = mounts(report);
    t.ok(m.has('/dev/null'), '/dev/null is a bind mount');
    t.match(probeOf(report, '/dev/null'), { kind: 'char', major: 1, minor: 3 });
    t.ok(m.get('/mnt/ro')?.opts.includes('ro'), 'bind ro remount works in a user namespace');
    t.ok(m.get('/')?.opts.includes('ro'), 'read-only root in a user namespace');
    t.end();
  });

  t.test('errors name the call, source → container destination and errno', (t) => {
    const { bundle, rootfs } = makeBundle(t);
    let report = run(t, bundle, rootfs, baseConfig({}, [{ destination: '/x', type: 'nosuchfs', source: 'src' }]), []);
    t.equal(report.ok, false);
    t.equal(report.error, 'mount(src → /x): ENODEV');
    report = run(
      t,
      bundle,
      rootfs,
      baseConfig({}, [{ destination: '/proc/sys/kernel', type: 'tmpfs', source: 'tmpfs' }]),
      [],
    );
    t.equal(report.ok, false);
    t.match(report.error, /inside \/proc/);
    report = run(
      t,
      bundle,
      rootfs,
      baseConfig({}, [{ destination: '/m', type: 'bind', source: '/does/not/exist', options: ['bind'] }]),
      [],
    );
    t.equal(report.ok, false);
    t.match(report.error, /\/does\/not\/exist → \/m.*ENOENT/);
    rmSync(join(rootfs, 'proc'), { recursive: true });
    mkdirSync(join(rootfs, 'realproc'));
    symlinkSync('realproc', join(rootfs, 'proc'));
    report = run(t, bundle, rootfs, baseConfig(), []);
    t.equal(report.ok, false, 'proc refused on a symlink');
    t.match(report.error, /filesystem "proc" must be mounted on ordinary directory \(\/proc is a symlink\)/);
    t.end();
  });

  t.test('test temp dirs are gone', (t) => {
    t.notOk(
      readdirSync(tmpdir()).some((n) => n.startsWith('tsrun-copyup-')),
      'no tmpcopyup staging dirs left',
    );
    t.end();
  });
}
