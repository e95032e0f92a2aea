// The systemd cgroup driver's VM tests (test/vm/systemd-driver.test.ts on
// cgroup v2, test/vm-hybrid/systemd-driver-v1.test.ts on a hybrid host):
// what a unit looks like to systemctl, their bundles, and systemd's own refusals.
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types';
import { parseState, testConfig, uniqueId, type Env } from './harness';
import { launch } from './runc';

export const SD = '--systemd-cgroup';

/** systemctl show's NAME=VALUE lines for a unit, as an object; a repeated NAME's values joined by "|". */
export function unitProps(unit: string, names: string[]): Record<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...names.flatMap((n) => ['-p', n])], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    const [k, v] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
    out[k] = k in out ? `${out[k]}|${v}` : v;
  }
  return out;
}

export const unitState = (unit: string) => unitProps(unit, ['LoadState', 'ActiveState']);
export const GONE = { LoadState: 'not-found', ActiveState: 'inactive' };

/** A `sleep 600` bundle with this cgroupsPath and the test's changes. */
export function scopeBundle(env: Env, id: string, cgroupsPath: string | undefined, edit?: (c: Spec) => void): string {
  const c = testConfig(id, ['sleep', '600']);
  c.linux!.cgroupsPath = cgroupsPath;
  edit?.(c);
  return env.bundle(c);
}

/**
 * systemd itself refuses, tsrun passes its message on and keeps nothing:
 * a property systemd does not know, and a second container for a scope that
 * runs (UnitExists), which leaves the first as it was. `nothingLeft` checks
 * what a refused id left, `intact` the first container's scope while it runs.
 */
export function systemdRefusals(
  t: Test,
  env: Env,
  nothingLeft: (id: string, unit: string, what: string) => void,
  intact: (unit: string) => void,
): void {
  const propId = uniqueId('tsrun');
  const unknownProp = scopeBundle(env, propId, `system.slice:tsrun-vm:${propId}`, (c) => {
    c.annotations = { 'org.systemd.property.NoSuchProperty': 'true' };
  });
  const prop = launch(env, env.run, [SD, 'run', '-d', '--bundle', unknownProp, propId]);
  t.not(prop.code, 0, 'a property systemd does not know: refused');
  t.match(prop.stderr, /StartTransientUnit: org\.freedesktop\.DBus\.Error\.\w+: .*NoSuchProperty/, "systemd's message");
  nothingLeft(propId, `tsrun-vm-${propId}.scope`, 'a property systemd refuses');

  const first = uniqueId('tsrun');
  const unit = `tsrun-vm-${first}.scope`;
  const path = `system.slice:tsrun-vm:${first}`;
  const one = launch(env, env.run, [SD, 'run', '-d', '--bundle', scopeBundle(env, first, path), first]);
  t.equal(one.code, 0, `the first container: ${one.stderr}`);
  const second = uniqueId('tsrun');
  const r = launch(env, env.run, [SD, 'run', '-d', '--bundle', scopeBundle(env, second, path), second]);
  t.not(r.code, 0, 'a second one for the same scope: refused');
  t.match(r.stderr, /org\.freedesktop\.systemd1\.UnitExists/, "systemd's own error");
  t.notOk(existsSync(join(env.root, second)), 'no state directory for it');
  intact(unit);
  t.equal(parseState(env.run(['state', first])).status, 'running', 'the first still runs');
  t.equal(env.run(['delete', '--force', first]).code, 0, 'delete --force the first');
  nothingLeft(first, unit, 'the first, deleted');
}
