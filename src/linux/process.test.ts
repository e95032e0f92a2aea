// The pure parts of process set-up: PATH lookup, the LSM refusals, HOME.
// What needs root (credentials, capabilities, rlimits applied for real) is
// in test/integration/linux/process.test.ts.
import t from 'tap';
import { existsSync, readFileSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveExecutable } from './path-lookup';
import { applyApparmor, checkSelinuxLabel } from './lsm';
import { withHome } from './passwd';

t.test('resolveExecutable: PATH lookup like runc', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-path-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  mkdirSync(join(dir, 'b', 'tool.d'));
  writeFileSync(join(dir, 'a', 'tool'), 'not executable', { mode: 0o644 });
  writeFileSync(join(dir, 'b', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(dir, 'here'), '#!/bin/sh\n', { mode: 0o755 });
  const env = [`PATH=${join(dir, 'a')}:${join(dir, 'b')}`, 'HOME=/'];
  t.equal(resolveExecutable('tool', env, '/'), join(dir, 'b', 'tool'), 'skips the non-executable match');
  t.equal(resolveExecutable('sh', ['PATH=/usr/bin:/bin'], '/'), '/usr/bin/sh');
  t.throws(
    () => resolveExecutable('tool.d', env, '/'),
    { message: 'exec: "tool.d": executable file not found in $PATH' },
    'directories do not count',
  );
  t.throws(() => resolveExecutable('nope', env, '/'), { message: 'exec: "nope": executable file not found in $PATH' });
  t.throws(
    () => resolveExecutable('sh', undefined, '/'),
    { message: 'exec: "sh": executable file not found in $PATH' },
    'no PATH, no lookup',
  );
  t.equal(resolveExecutable('/bin/sh', undefined, '/'), '/bin/sh', 'a path is used as is');
  t.equal(resolveExecutable('./here', undefined, dir), join(dir, 'here'), 'relative to cwd');
  t.throws(() => resolveExecutable('/no/such', env, '/'), {
    message: 'exec: "/no/such": stat /no/such: no such file or directory',
  });
  t.throws(() => resolveExecutable(join(dir, 'a', 'tool'), env, '/'), {
    message: `exec: "${join(dir, 'a', 'tool')}": permission denied`,
  });
  t.equal(resolveExecutable('here', ['PATH=/nonexistent:'], dir), join(dir, 'here'), 'an empty PATH entry is cwd');
});

const lsmPresent = existsSync('/sys/module/apparmor/parameters/enabled') || existsSync('/sys/fs/selinux/enforce');

t.test('AppArmor and SELinux: nothing requested is fine', async (t) => {
  t.doesNotThrow(() => applyApparmor(undefined));
  t.doesNotThrow(() => applyApparmor(''));
  t.doesNotThrow(() => checkSelinuxLabel(undefined));
  t.doesNotThrow(() => checkSelinuxLabel(''));
});

t.test(
  'AppArmor and SELinux are refused clearly on a host without them',
  {
    skip: lsmPresent && 'this host has AppArmor or SELinux enabled; the refusal messages are for hosts without them',
  },
  async (t) => {
    t.throws(() => applyApparmor('docker-default'), {
      message:
        'apparmor profile "docker-default" specified (process.apparmorProfile) but AppArmor is not enabled on the host',
    });
    t.throws(() => checkSelinuxLabel('system_u:system_r:container_t:s0'), {
      message:
        'SELinux label "system_u:system_r:container_t:s0" specified (process.selinuxLabel) ' +
        'but SELinux is not enabled on the host',
    });
  },
);

t.test('withHome: HOME from /etc/passwd when the env lacks it', async (t) => {
  t.same(withHome(['HOME=/x', 'A=1'], 0), ['HOME=/x', 'A=1'], 'an explicit HOME wins');
  const rootHome = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[2] === '0')!
    .split(':')[5];
  t.same(withHome(['A=1'], 0), ['A=1', `HOME=${rootHome}`], 'uid 0 → its passwd entry');
  t.same(withHome(undefined, 4242424), ['HOME=/'], 'unknown uid → /');
});
