// Issue 19's first failure on a systemd + cgroup v2 host: with no
// linux.cgroupsPath, a container created from a systemd service must not go
// below the service's own cgroup (it holds processes, so no controller can be
// enabled there: EBUSY). runc's fs2 driver takes the parent: so does tsrun.
import t from 'tap';
import { dirname, join } from 'node:path';
import { existsSync, rmdirSync } from 'node:fs';
import { testCgroupPath, testConfig, testEnv, uniqueId, parseState } from '../helpers/harness';
import { runtimes } from '../helpers/runc';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';

if (requireV2Host(t)) {
  const own = cgroupOf('self');
  t.match(own, /^\/system\.slice\/.+\.service$/, `the tests run in a systemd service (${own})`);

  t.test('no cgroupsPath: the container is <parent of our cgroup>/<id>, with its limits', async (t) => {
    const env = testEnv(t);
    for (const rt of runtimes(t, env)) {
      const id = uniqueId(rt.name);
      const c = testConfig(id, ['sleep', '60']);
      delete c.linux!.cgroupsPath;
      c.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 50 } };
      const r = rt.run(['create', '--bundle', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `${rt.name} create: ${r.stderr}`);
      const pid = parseState(rt.run(['state', id])).pid as number;
      const want = join(dirname(own), id);
      t.equal(cgroupOf(pid), want, `${rt.name}: the init is in ${want}`);
      t.equal(cgroupFile(want, 'memory.max'), String(64 << 20), `${rt.name}: memory.max`);
      t.equal(cgroupFile(want, 'pids.max'), '50', `${rt.name}: pids.max`);
      t.equal(rt.run(['delete', '--force', id]).code, 0, `${rt.name} delete`);
      t.notOk(existsSync(cgroupDir(want)), `${rt.name}: the cgroup is gone`);
    }
    env.done();
  });

  t.test('a relative cgroupsPath is below the parent too (as runc), an absolute one below the root', async (t) => {
    const env = testEnv(t);
    const absParent = `/tsrun-vm-abs-${process.pid}`;
    t.teardown(() => existsSync(cgroupDir(absParent)) && rmdirSync(cgroupDir(absParent)));
    for (const [path, want] of [
      [testCgroupPath('rel'), join(dirname(own), testCgroupPath('rel'))],
      [`${absParent}/c`, `${absParent}/c`],
    ]) {
      const id = uniqueId();
      const c = testConfig(id, ['sleep', '60']);
      c.linux!.cgroupsPath = path;
      const r = env.run(['run', '-d', '--bundle', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
      t.equal(r.code, 0, `run with ${path}: ${r.stderr}`);
      t.equal(cgroupOf(parseState(env.run(['state', id])).pid as number), want, `${path} → ${want}`);
      t.equal(env.run(['delete', '--force', id]).code, 0);
      t.notOk(existsSync(cgroupDir(want)), 'the cgroup is gone');
    }
    env.done();
  });
}
