// Every claim of `tsrun features` (the built executable's output) held
// against real containers: what it claims is accepted by create and has
// its effect; what it claims false is refused by name. A claim added to
// features without a check here fails this test.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  isRoot,
  ROOT_REASON,
  testEnv,
  testConfig,
  uniqueId,
  cgroupDirsOf,
  testCgroupPath,
  sharedRootfs,
  TSRUN,
  cleanEnv,
  type Env,
} from '../../helpers/harness';
import type { Spec, Mount, LinuxNamespaceType, MemoryPolicyMode, MemoryPolicyFlag } from '../../../src/spec/types';
import type { Features } from '../../../src/spec/features';
import { compileSeccomp } from '../../../src/seccomp/compile';
import { capMask } from '../../../src/linux/capabilities';
import { featuresSchemaErrors } from '../../helpers/features-schema';

type Loose = Spec & { linux: Record<string, unknown>; mounts: (Mount & Record<string, unknown>)[] };

function claims(): Features {
  return JSON.parse(execFileSync(TSRUN, ['features'], { encoding: 'utf8', env: cleanEnv() })) as Features;
}

/** `tsrun run` of `config` with `args`; its exit code and combined output. */
function run(env: Env, config: Spec, args: string[]): { code: number | null; out: string; id: string } {
  const id = uniqueId('ft');
  config.process!.args = args;
  config.linux!.cgroupsPath = testCgroupPath(id);
  const out = join(env.dir, `${id}.out`);
  const r = env.run(['run', '-b', env.bundle(config), id], { output: out });
  return { code: r.code, out: readFileSync(out, 'utf8'), id };
}

/** create must fail naming `path`, and leave no state or cgroup. */
function refused(t: Test, env: Env, config: Spec, path: RegExp, what: string): void {
  const id = uniqueId('ftno');
  if (!config.process!.args?.length) config.process!.args = ['true'];
  config.linux!.cgroupsPath = testCgroupPath(id);
  const r = env.run(['create', '-b', env.bundle(config), id], { output: join(env.dir, `${id}.out`) });
  t.not(r.code, 0, `${what}: refused`);
  t.match(r.stderr, path, `${what}: the error names it`);
  t.same(cgroupDirsOf(testCgroupPath(id)), [], `${what}: no cgroup left`);
}

// The properties features.md and features-linux.md define at runtime-spec 1.3.0.
const TOP = [
  'ociVersionMin',
  'ociVersionMax',
  'hooks',
  'mountOptions',
  'linux',
  'annotations',
  'potentiallyUnsafeConfigAnnotations',
];
const LINUX = [
  'namespaces',
  'capabilities',
  'cgroup',
  'seccomp',
  'apparmor',
  'selinux',
  'memoryPolicy',
  'intelRdt',
  'mountExtensions',
  'netDevices',
];

/** One mountinfo line, split: per-mount options, optional fields, superblock options. */
interface MountLine {
  opts: string[];
  optional: string[];
  super: string[];
}
const has = (o: string) => (m: MountLine) => m.opts.includes(o);
const lacks = (o: string) => (m: MountLine) => !m.opts.includes(o);
const superHas = (o: string) => (m: MountLine) => m.super.includes(o);
const superLacks = (o: string) => (m: MountLine) => !m.super.includes(o);
const shared = (m: MountLine) => m.optional.some((f) => f.startsWith('shared:'));
/**
 * option → the options of a tmpfs that shows it, and what its mountinfo
 * line must say. A clearing option follows the option it clears.
 */
const TMPFS_CHECKS: Record<string, [string[], (m: MountLine) => boolean]> = {
  ro: [['ro'], has('ro')],
  rw: [['ro', 'rw'], has('rw')],
  nosuid: [['nosuid'], has('nosuid')],
  suid: [['nosuid', 'suid'], lacks('nosuid')],
  nodev: [['nodev'], has('nodev')],
  dev: [['nodev', 'dev'], lacks('nodev')],
  noexec: [['noexec'], has('noexec')],
  exec: [['noexec', 'exec'], lacks('noexec')],
  noatime: [['noatime'], has('noatime')],
  atime: [['noatime', 'atime'], lacks('noatime')],
  nodiratime: [['nodiratime'], has('nodiratime')],
  diratime: [['nodiratime', 'diratime'], lacks('nodiratime')],
  strictatime: [['strictatime'], (m) => lacks('relatime')(m) && lacks('noatime')(m)],
  nostrictatime: [['strictatime', 'nostrictatime'], has('relatime')],
  // The kernel's default is relatime (strictatime wins over it, with mount(8) and runc too):
  // neither shows a change on its own.
  relatime: [['relatime'], has('relatime')],
  norelatime: [['norelatime'], has('relatime')],
  nosymfollow: [['nosymfollow'], has('nosymfollow')],
  symfollow: [['nosymfollow', 'symfollow'], lacks('nosymfollow')],
  sync: [['sync'], superHas('sync')],
  async: [['sync', 'async'], superLacks('sync')],
  dirsync: [['dirsync'], superHas('dirsync')],
  lazytime: [['lazytime'], superHas('lazytime')],
  nolazytime: [['lazytime', 'nolazytime'], superLacks('lazytime')],
  mand: [['mand'], superHas('mand')],
  nomand: [['mand', 'nomand'], superLacks('mand')],
  // No visible state on tmpfs (kernel log verbosity, i_version counting): accepted, nothing else changes.
  defaults: [['defaults'], (m) => has('rw')(m) && lacks('nosuid')(m)],
  silent: [['silent'], has('rw')],
  loud: [['silent', 'loud'], has('rw')],
  iversion: [['iversion'], has('rw')],
  noiversion: [['iversion', 'noiversion'], has('rw')],
  shared: [['shared'], shared],
  rshared: [['rshared'], shared],
  private: [['shared', 'private'], (m) => !shared(m)],
  rprivate: [['rshared', 'rprivate'], (m) => !shared(m)],
  // A slave of a peer group of one has no master: it is private.
  slave: [['shared', 'slave'], (m) => !shared(m)],
  rslave: [['rshared', 'rslave'], (m) => !shared(m)],
  unbindable: [['unbindable'], (m) => m.optional.includes('unbindable')],
  runbindable: [['runbindable'], (m) => m.optional.includes('unbindable')],
  rro: [['rro'], has('ro')],
  rrw: [['rro', 'rrw'], has('rw')],
  rnosuid: [['rnosuid'], has('nosuid')],
  rsuid: [['rnosuid', 'rsuid'], lacks('nosuid')],
  rnodev: [['rnodev'], has('nodev')],
  rdev: [['rnodev', 'rdev'], lacks('nodev')],
  rnoexec: [['rnoexec'], has('noexec')],
  rexec: [['rnoexec', 'rexec'], lacks('noexec')],
  rnoatime: [['rnoatime'], has('noatime')],
  ratime: [['rnoatime', 'ratime'], lacks('noatime')],
  rnodiratime: [['rnodiratime'], has('nodiratime')],
  rdiratime: [['rnodiratime', 'rdiratime'], lacks('nodiratime')],
  rstrictatime: [['rstrictatime'], (m) => lacks('relatime')(m) && lacks('noatime')(m)],
  rnostrictatime: [['rstrictatime', 'rnostrictatime'], has('relatime')],
  rrelatime: [['rstrictatime', 'rrelatime'], has('relatime')],
  rnorelatime: [['rnorelatime'], lacks('relatime')],
  rnosymfollow: [['rnosymfollow'], has('nosymfollow')],
  rsymfollow: [['rnosymfollow', 'rsymfollow'], lacks('nosymfollow')],
};
/** Syscalls `sh -c true` never makes, one per seccomp action. */
const UNUSED = [
  'acct',
  'swapon',
  'reboot',
  'kexec_load',
  'init_module',
  'delete_module',
  'quotactl',
  'settimeofday',
  'add_key',
  'request_key',
];

/** Checked on bind mounts and a copied-up tmpfs instead (below); idmap and ridmap with mountExtensions. */
const OTHER_CHECKS = ['bind', 'rbind', 'remount', 'tmpcopyup', 'idmap', 'ridmap'];

function mountLines(mountinfo: string): Map<string, MountLine> {
  const lines = new Map<string, MountLine>();
  for (const line of mountinfo.split('\n').filter(Boolean)) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    lines.set(f[4], { opts: f[5].split(','), optional: f.slice(6, dash), super: (f[dash + 3] ?? '').split(',') });
  }
  return lines;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  const f = claims();

  t.test('only properties of the spec version it claims', async (t) => {
    t.same(
      Object.keys(f).filter((k) => !TOP.includes(k)),
      [],
      `features.md ${f.ociVersionMax}`,
    );
    t.same(
      Object.keys(f.linux).filter((k) => !LINUX.includes(k)),
      [],
      `features-linux.md ${f.ociVersionMax}`,
    );
    for (const v of Object.values(f.annotations)) t.type(v, 'string', 'annotation values are strings');
    t.same(featuresSchemaErrors(f), [], "valid against runtime-spec 1.3's features schema (schemas/)");
  });

  t.test(
    'potentiallyUnsafeConfigAnnotations: without --systemd-cgroup, the annotations runc acts on change nothing',
    async (t) => {
      const env = testEnv(t);
      // runc 1.2+'s list, and an annotation of the spec's own namespace; what tsrun claims is checked the same way.
      const annotations: Record<string, string> = {
        bundle: '/elsewhere',
        'org.systemd.property.CPUWeight': '5',
        'org.criu.config': '/nonexistent/criu.conf',
        'org.opencontainers.image.ref.name': 'x',
      };
      for (const a of f.potentiallyUnsafeConfigAnnotations) annotations[a.endsWith('.') ? `${a}X` : a] = 'x';
      const seen = join(env.dir, 'hook-state');
      const c = testConfig('x', ['sleep', '30']);
      c.annotations = annotations;
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${seen}`] }] };
      const id = uniqueId('ftann');
      c.linux!.cgroupsPath = testCgroupPath(id);
      const bundle = env.bundle(c);
      const r = env.run(['run', '-d', '-b', bundle, id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `runs: ${r.stdout}`);
      const state = JSON.parse(env.run(['state', id]).stdout) as { bundle: string; annotations: object };
      t.equal(state.bundle, bundle, 'state: the real bundle, whatever the "bundle" annotation says');
      t.same(state.annotations, annotations, 'state: every annotation as given, none taken as a setting');
      t.equal((JSON.parse(readFileSync(seen, 'utf8')) as { bundle: string }).bundle, bundle, 'hooks: the real bundle');
      t.equal(cgroupDirsOf(testCgroupPath(id)).length > 0, true, "the cgroup is cgroupsPath's, no systemd unit");
      t.equal(env.run(['delete', '--force', id]).code, 0, 'deleted');
      t.same(f.potentiallyUnsafeConfigAnnotations, ['org.systemd.property.'], 'claimed: the systemd unit properties');
      env.done();
    },
  );

  t.test('ociVersionMin and ociVersionMax are accepted; past them is refused', async (t) => {
    const env = testEnv(t);
    for (const v of [f.ociVersionMin, f.ociVersionMax]) {
      const c = testConfig('x', []);
      c.ociVersion = v;
      t.equal(run(env, c, ['true']).code, 0, `ociVersion ${v} runs`);
    }
    const [maj, min] = f.ociVersionMax.split('.').map(Number);
    const c = testConfig('x', ['true']);
    c.ociVersion = `${maj}.${min + 1}.0`;
    refused(t, env, c, /ociVersion/, `ociVersion ${c.ociVersion}`);
    env.done();
  });

  t.test('every claimed hook runs', async (t) => {
    const env = testEnv(t);
    const marks = join(env.dir, 'marks');
    mkdirSync(marks);
    const c = testConfig('x', []);
    c.mounts!.push({ destination: '/marks', type: 'bind', source: marks, options: ['rbind', 'rw'] });
    // startContainer runs in the container (its /marks); the others see the host's path.
    const hook = (name: string) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `echo ran > ${name === 'startContainer' ? '/marks' : marks}/${name}`],
    });
    c.hooks = Object.fromEntries(f.hooks.map((h) => [h, [hook(h)]]));
    t.equal(run(env, c, ['true']).code, 0, 'runs with every claimed hook');
    for (const h of f.hooks) t.equal(readFileSync(join(marks, h), 'utf8'), 'ran\n', `${h} ran`);
    env.done();
  });

  t.test('every claimed mount option is accepted and has its effect', async (t) => {
    const env = testEnv(t);
    const unchecked = f.mountOptions.filter((o) => !(o in TMPFS_CHECKS) && !OTHER_CHECKS.includes(o));
    t.same(unchecked, [], 'every claimed option has a check here');
    const c = testConfig('x', []);
    c.root!.readonly = false;
    const claimed = f.mountOptions.filter((o) => o in TMPFS_CHECKS);
    for (const o of claimed)
      c.mounts!.push({ destination: `/opt/${o}`, type: 'tmpfs', source: 'tmpfs', options: TMPFS_CHECKS[o][0] });
    // bind, rbind (with a submount), remount (of a bind), tmpcopyup.
    const src = join(env.dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'marker'), 'host\n');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(src, 'sub')]);
    t.teardown(() => spawnSync('umount', ['-l', join(src, 'sub')])); // if the test stops early
    writeFileSync(join(src, 'sub', 'inner'), 'sub\n');
    if (f.mountOptions.includes('bind'))
      c.mounts!.push({ destination: '/opt/bind', type: 'bind', source: src, options: ['bind'] });
    if (f.mountOptions.includes('rbind'))
      c.mounts!.push({ destination: '/opt/rbind', type: 'bind', source: src, options: ['rbind'] });
    if (f.mountOptions.includes('remount'))
      c.mounts!.push({ destination: '/opt/remount', type: 'bind', source: src, options: ['bind', 'remount', 'ro'] });
    if (f.mountOptions.includes('tmpcopyup'))
      c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const r = run(env, c, [
      'sh',
      '-c',
      'cat /proc/self/mountinfo; echo ==; cat /opt/bind/marker /opt/rbind/sub/inner; ls /opt/bind/sub; ' +
        'echo ==; grep -c ^root: /etc/passwd',
    ]);
    t.equal(r.code, 0, 'a container with every claimed option runs');
    execFileSync('umount', [join(src, 'sub')]);
    const [mountinfo, binds, copied] = r.out.split('==\n');
    const lines = mountLines(mountinfo);
    for (const o of claimed) {
      const line = lines.get(`/opt/${o}`);
      t.ok(
        line && TMPFS_CHECKS[o][1](line),
        `${o} (${TMPFS_CHECKS[o][0].join(',')}): ` +
          `${line ? [line.opts.join(','), ...line.optional, line.super.join(',')].join(' ') : 'not mounted'}`,
      );
    }
    if (f.mountOptions.includes('bind')) t.match(binds, /^host$/m, 'bind: the source is there');
    if (f.mountOptions.includes('bind')) t.notMatch(binds, /^inner$/m, 'bind: but not its submount');
    if (f.mountOptions.includes('rbind')) t.match(binds, /^sub$/m, 'rbind: with its submount');
    if (f.mountOptions.includes('remount'))
      t.ok(lines.get('/opt/remount')?.opts.includes('ro'), 'remount: the bind is remounted read-only');
    if (f.mountOptions.includes('tmpcopyup')) {
      t.equal(copied.trim(), '1', "tmpcopyup: the image's /etc/passwd was copied");
      t.ok(lines.has('/etc'), 'tmpcopyup: onto a tmpfs at /etc');
    }
    env.done();
  });

  t.test('every claimed namespace can be created', async (t) => {
    const env = testEnv(t);
    const c = testConfig('x', []);
    const kernelName: Record<string, string> = { mount: 'mnt', network: 'net' };
    c.linux!.namespaces = f.linux.namespaces.map((type) => ({ type: type as LinuxNamespaceType }));
    if (f.linux.namespaces.includes('user')) {
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      chmodSync(sharedRootfs(), 0o755);
    }
    const names = f.linux.namespaces.map((n) => kernelName[n] ?? n);
    // time: the init's children enter it (time_for_children); the program is one.
    const r = run(env, c, ['sh', '-c', names.map((n) => `echo ${n} $(readlink /proc/self/ns/${n})`).join('; ')]);
    t.equal(r.code, 0, r.out);
    for (const n of names) {
      const inside = new RegExp(`^${n} (.*)$`, 'm').exec(r.out)?.[1];
      t.ok(inside && inside !== readlinkSync(`/proc/self/ns/${n}`), `${n}: a namespace of its own (${inside})`);
    }
    env.done();
  });

  t.test('every claimed capability is recognized, and granted when tsrun holds it', async (t) => {
    const env = testEnv(t);
    // Claimed: the names tsrun recognizes, "including capabilities that might not be supported".
    const bound = BigInt('0x' + /^CapBnd:\s*(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const held = f.linux.capabilities.filter((n) => capMask([n]) & bound);
    const c = testConfig('x', []);
    c.process!.capabilities = { bounding: held, effective: held, permitted: held };
    const r = run(env, c, ['grep', '^CapEff', '/proc/self/status']);
    t.equal(r.code, 0, r.out);
    t.equal(
      BigInt('0x' + (/CapEff:\s*(\w+)/.exec(r.out)?.[1] ?? '0')),
      capMask(held),
      `CapEff is every claimed capability tsrun holds (${held.length} of ${f.linux.capabilities.length})`,
    );
    for (const n of f.linux.capabilities.filter((n) => !held.includes(n))) {
      const c = testConfig('x', ['true']);
      c.process!.capabilities = { bounding: [n], effective: [n], permitted: [n] };
      refused(
        t,
        env,
        c,
        new RegExp(`${n} not in the capability bounding set tsrun runs with`),
        `${n}: recognized, refused only because tsrun does not hold it`,
      );
    }
    env.done();
  });

  t.test('every claimed seccomp action, operator, architecture and flag is accepted', async (t) => {
    const env = testEnv(t);
    const s = f.linux.seccomp;
    t.equal(s.enabled, true);
    if (!('actions' in s)) return;
    const c = testConfig('x', []);
    // Rules on syscalls `true` never makes, so only acceptance and loading are at stake here;
    // each action's effect is held by src/seccomp/container*.test.ts.
    const actions = s.actions.filter((a) => a !== 'SCMP_ACT_NOTIFY');
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: s.archs as never,
      flags: s.supportedFlags as never,
      syscalls: [
        ...actions.map((a, i) => ({ names: [UNUSED[i]], action: a as never })),
        ...s.operators.map((op) => ({
          names: ['swapoff'],
          action: 'SCMP_ACT_ERRNO' as never,
          args: [{ index: 1, value: 7, valueTwo: 7, op: op as never }],
        })),
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    };
    const r = run(env, c, ['sh', '-c', 'true']);
    t.equal(r.code, 0, `a profile with every claim loads: ${r.out}`);
    if (s.actions.includes('SCMP_ACT_NOTIFY')) {
      t.doesNotThrow(
        () =>
          compileSeccomp({
            defaultAction: 'SCMP_ACT_ALLOW',
            listenerPath: '/x',
            syscalls: [{ names: ['acct'], action: 'SCMP_ACT_NOTIFY' }],
          }),
        'SCMP_ACT_NOTIFY compiles (its agent: test/integration/seccomp/container-notify.test.ts)',
      );
    }
    for (const flag of s.knownFlags.filter((k) => !s.supportedFlags.includes(k)))
      t.comment(`${flag}: known, not supported by this kernel`);
    env.done();
  });

  t.test('the cgroup claims', async (t) => {
    const env = testEnv(t);
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    const c = testConfig('x', []);
    c.linux!.resources = { pids: { limit: 77 } };
    const r = run(env, c, ['cat', '/proc/self/cgroup']);
    t.equal(r.code, 0, r.out);
    if (f.linux.cgroup.v1)
      t.match(r.out, /^\d+:[^:]*pids[^:]*:\/.+/m, 'v1: the container is in a pids hierarchy of its own');
    if (f.linux.cgroup.v2) t.match(r.out, /^0::\/.+/m, 'v2: and in the unified hierarchy');
    t.equal(
      f.linux.cgroup.v1,
      /^\d+:[^:]+:/m.test(own.replace(/^\d+:name=[^:]*:.*$/gm, '')),
      'v1 claimed iff this host mounts a v1 controller',
    );
    t.equal(f.linux.cgroup.v2, /^0::/m.test(own), 'v2 claimed iff the unified hierarchy is mounted');
    if (!f.linux.cgroup.systemd) {
      const id = uniqueId('ftsd');
      const sd = testConfig(id, ['true']);
      sd.linux!.cgroupsPath = 'system.slice:tsrun:' + id;
      const res = env.run(['--systemd-cgroup', 'create', '-b', env.bundle(sd), id], {
        output: join(env.dir, `${id}.out`),
      });
      t.not(res.code, 0, 'systemd claimed false: --systemd-cgroup is refused');
      t.match(res.stderr, /systemd/, 'naming systemd');
    }
    if (!f.linux.cgroup.rdma) {
      const rd = testConfig('x', ['true']);
      rd.linux!.resources = { rdma: { mlx5_0: { hcaHandles: 1 } } };
      refused(t, env, rd, /rdma/, 'rdma claimed false: an rdma limit');
    }
    env.done();
  });

  t.test('every claimed memory policy mode and flag', async (t) => {
    const env = testEnv(t);
    for (const mode of f.linux.memoryPolicy.modes) {
      const c = testConfig('x', []) as Loose;
      c.linux.memoryPolicy = {
        mode: mode as MemoryPolicyMode,
        ...(['MPOL_DEFAULT', 'MPOL_LOCAL'].includes(mode) ? {} : { nodes: '0' }),
      };
      t.equal(run(env, c, ['head', '-1', '/proc/self/numa_maps']).code, 0, `${mode} runs`);
    }
    for (const flag of f.linux.memoryPolicy.flags) {
      const c = testConfig('x', []) as Loose;
      c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: [flag as MemoryPolicyFlag] };
      const r = run(env, c, ['head', '-1', '/proc/self/numa_maps']);
      const shown: Record<string, string> = {
        MPOL_F_STATIC_NODES: 'static',
        MPOL_F_RELATIVE_NODES: 'relative',
        MPOL_F_NUMA_BALANCING: 'balancing',
      };
      t.match(r.out, new RegExp(`^[0-9a-f]+ bind=${shown[flag]}:0 `, 'm'), `${flag}: bind=${shown[flag]}:0`);
    }
    env.done();
  });

  t.test('what is claimed false is refused by name; what is claimed true works', async (t) => {
    const env = testEnv(t);
    if (!f.linux.intelRdt.enabled) {
      const c = testConfig('x', ['true']) as Loose;
      c.linux.intelRdt = { closID: 'tsrun' };
      refused(t, env, c, /\/linux\/intelRdt/, 'intelRdt');
    }
    // runtime-spec 1.3's intelRdt.schemata and intelRdt.enableMonitoring.
    for (const [claim, field] of [
      ['schemata', { schemata: ['L3:0=ff'] }],
      ['monitoring', { enableMonitoring: true }],
    ] as const) {
      t.equal(f.linux.intelRdt[claim], false, `intelRdt.${claim} claimed false`);
      const c = testConfig('x', ['true']);
      (c.linux as Record<string, unknown>).intelRdt = field; // 1.3 fields, not in tsrun's config schema
      refused(t, env, c, /\/linux\/intelRdt/, `intelRdt.${Object.keys(field)[0]}`);
    }
    if (!f.linux.selinux.enabled) {
      const c = testConfig('x', ['true']);
      c.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
      refused(t, env, c, /process\.selinuxLabel/, 'selinux');
    }
    {
      const c = testConfig('x', []);
      c.process!.apparmorProfile = 'unconfined';
      if (f.linux.apparmor.enabled)
        t.match(run(env, c, ['cat', '/proc/self/attr/current']).out, /unconfined/, 'apparmor: the profile is applied');
      else refused(t, env, c, /process\.apparmorProfile/, 'apparmor');
    }
    for (const option of ['idmap', 'ridmap']) {
      const src = join(env.dir, `${option}-src`);
      mkdirSync(src);
      const c = testConfig('x', []) as Loose;
      const map = [{ containerID: 0, hostID: 1000, size: 1 }];
      c.mounts.push({
        destination: '/idmapped',
        type: 'bind',
        source: src,
        options: ['rbind', option],
        uidMappings: map,
        gidMappings: map,
      });
      if (f.linux.mountExtensions.idmap.enabled && f.mountOptions.includes(option)) {
        const r = run(env, c, ['sh', '-c', 'grep " /idmapped " /proc/self/mountinfo; stat -c %u /idmapped']);
        t.equal(r.code, 0, r.out);
        t.match(r.out, /idmapped/, `${option}: the mount is id-mapped`);
        t.match(r.out, /^1000$/m, `${option}: host uid 0 seen as 1000 through the mapping`);
      } else refused(t, env, c, /\/mounts\/\d+\/(options\/1|uidMappings)/, option);
    }
    {
      const dev = `tsft${process.pid % 100000}`;
      const c = testConfig('x', []) as Loose;
      c.linux.netDevices = { [dev]: { name: 'ctr1' } };
      if (f.linux.netDevices.enabled) {
        execFileSync('ip', ['tuntap', 'add', dev, 'mode', 'tap']);
        t.teardown(() => spawnSync('ip', ['link', 'del', dev]));
        t.match(
          run(env, c, ['ls', '/sys/class/net']).out,
          /^ctr1$/m,
          'netDevices: the device is in the container, renamed',
        );
      } else refused(t, env, c, /\/linux\/netDevices/, 'netDevices');
    }
    env.done();
  });

  t.test('the rootless annotation', async (t) => {
    const env = testEnv(t);
    const rootless = f.annotations['io.github.tsrun.rootless'];
    t.ok(rootless === 'true' || rootless === 'false', `io.github.tsrun.rootless is "true" or "false" (${rootless})`);
    chmodSync(env.dir, 0o777);
    const bundle = join(env.dir, 'rootless');
    mkdirSync(bundle);
    chmodSync(bundle, 0o777);
    // Generated as the caller that runs it: the mappings name the caller's own ids.
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', TSRUN];
    execFileSync(asNobody[0], [...asNobody.slice(1), 'spec', '--rootless', '--bundle', bundle], { env: cleanEnv() });
    const c = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    c.root = { path: sharedRootfs(), readonly: true };
    c.process!.terminal = false;
    c.process!.args = ['id', '-u'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(c));
    chmodSync(bundle, 0o777);
    const state = join(env.dir, 'rootless-state');
    const r = spawnSync(asNobody[0], [...asNobody.slice(1), '--root', state, 'run', '-b', bundle, uniqueId('ftrl')], {
      encoding: 'utf8',
      env: cleanEnv({ HOME: env.dir, XDG_RUNTIME_DIR: join(env.dir, 'xdg') }),
      timeout: 30000,
    });
    if (rootless === 'true') {
      t.equal(r.status, 0, `an unprivileged caller runs a rootless container: ${r.stderr}`);
      t.match(r.stdout, /^0$/m, 'as root of its user namespace');
    } else {
      t.not(r.status, 0, `claimed false: an unprivileged caller's run fails (${r.stderr.trim()})`);
    }
    if (!f.linux.cgroup.systemdUser) {
      // The user-scoped systemd driver is runc's --systemd-cgroup for an unprivileged caller.
      const sd = spawnSync(
        asNobody[0],
        [...asNobody.slice(1), '--root', state, '--systemd-cgroup', 'run', '-b', bundle, uniqueId('ftsdu')],
        { encoding: 'utf8', env: cleanEnv({ HOME: env.dir, XDG_RUNTIME_DIR: join(env.dir, 'xdg') }), timeout: 30000 },
      );
      t.not(sd.status, 0, 'systemdUser claimed false: --systemd-cgroup of an unprivileged caller is refused');
      t.match(sd.stderr, /systemd/, `naming systemd (${sd.stderr.trim()})`);
    }
    env.done();
  });
}
