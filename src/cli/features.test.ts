import t from 'tap';
import { readFileSync } from 'node:fs';
import { featuresCommand } from './features';
import { features } from '../spec/features';
import { OCI_VERSION_MAX } from '../spec/version';
import { apparmorEnabled } from '../linux/lsm';
import { featuresSchemaErrors } from '../../test/helpers/features-schema';

t.test('features lists what tsrun implements', async (t) => {
  const f = features();
  t.equal(f.ociVersionMin, '1.0.0');
  t.equal(f.ociVersionMax, OCI_VERSION_MAX);
  t.same(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  t.same([...f.linux.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  for (const o of [
    'ro',
    'rbind',
    'rprivate',
    'rro',
    'rnostrictatime',
    'tmpcopyup',
    'nomand',
    'nosymfollow',
    'symfollow',
    'rnosymfollow',
    'rsymfollow',
  ]) {
    t.ok(f.mountOptions.includes(o), o);
  }
  for (const o of ['idmap', 'ridmap']) t.ok(f.mountOptions.includes(o), o);
  t.notOk(f.mountOptions.includes('acl'), 'a filesystem option is not claimed');
  // mount_setattr (Linux 5.12) is there on every kernel tsrun is tested on (HOST.md: 6.18).
  t.same(f.linux.mountExtensions, { idmap: { enabled: true } });
  t.equal(f.linux.seccomp.enabled, true);
  // cgroup v1/v2 depend on the host: src/cgroups/features-report.test.ts checks them against its layout.
  t.equal(f.linux.apparmor.enabled, apparmorEnabled(), 'AppArmor profiles work where it is the LSM');
  t.equal(f.linux.selinux.enabled, false);
  t.equal(f.linux.netDevices.enabled, true, 'linux.netDevices is implemented');
  t.same(f.linux.memoryPolicy.modes, [
    'MPOL_BIND',
    'MPOL_DEFAULT',
    'MPOL_INTERLEAVE',
    'MPOL_LOCAL',
    'MPOL_PREFERRED',
    'MPOL_PREFERRED_MANY',
    'MPOL_WEIGHTED_INTERLEAVE',
  ]);
  t.same(f.linux.memoryPolicy.flags, ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']);
  t.same(f.linux.intelRdt, { enabled: false, schemata: false, monitoring: false }, 'linux.intelRdt is refused');
  t.same(f.potentiallyUnsafeConfigAnnotations, ['org.systemd.property.'], 'the systemd unit properties, as runc');
  // Each claim against a container: test/integration/spec/features-truth.test.ts.
});

t.test("the document is valid against runtime-spec 1.3's features schema", async (t) => {
  t.same(featuresSchemaErrors(JSON.parse(JSON.stringify(features()))), []);
  const extra = { ...features(), linux: { ...features().linux, rdt: {} }, vm: {} };
  t.match(
    featuresSchemaErrors(extra),
    [/^\/: must NOT have additional properties .*"vm"/, /^\/linux: must NOT have additional properties .*"rdt"/],
    'a property the spec does not define is an error',
  );
  t.not(featuresSchemaErrors({ ...features(), hooks: 'prestart' }).length, 0, 'a value of the wrong type too');
});

t.test('capabilities are those the kernel knows', async (t) => {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const caps = features().linux.capabilities;
  t.equal(caps.length, last + 1);
  t.equal(caps[0], 'CAP_CHOWN');
  t.ok(caps.includes('CAP_SYS_ADMIN'));
  t.same(features(() => '37\n').linux.capabilities.slice(-1), ['CAP_AUDIT_READ'], 'older kernel: fewer names');
});

t.test('tsrun features prints the document as JSON on fd 1', async (t) => {
  // out() writes to fd 1 directly: run the handler in a child and read its stdout.
  const { execFileSync } = await import('node:child_process');
  const code = `require(${JSON.stringify(require.resolve('./features'))}).featuresCommand.handler({})`;
  const text = execFileSync(process.execPath, [...process.execArgv, '-e', code], { encoding: 'utf8' });
  const parsed = JSON.parse(text);
  t.same(parsed, JSON.parse(JSON.stringify(features())));
  t.ok(featuresCommand.command);
});
