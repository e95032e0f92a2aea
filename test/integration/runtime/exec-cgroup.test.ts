// exec --cgroup as runc 1.1.5's exec.bats ("runc exec --cgroup sub-cgroups
// [v1]") drives it, with runc beside tsrun on the same bundle: "/" is the
// container's own cgroup, several controllers share one path
// ("cpu,cpuacct:sub"), and a failure starts with runc's words ("unknown
// controller X", "error adding pid N to cgroups: … /cgroup.procs: no such
// file or directory"), tsrun's detail after them.
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupDirsOf,
  isRoot,
  ROOT_REASON,
  testCgroupPath,
  testConfig,
  testEnv,
  uniqueId,
} from '../../helpers/harness';
import { runtimes } from '../../helpers/runc';

/** /proc/self/cgroup lines other than the v2 one (the v1 hierarchies, each with its path). */
const v1Lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('0::'));

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test(
    "exec --cgroup / joins the container's cgroup; runc's wording for an unknown controller and a bad join",
    async (t) => {
      const env = testEnv(t);
      for (const rt of runtimes(t, env)) {
        const id = uniqueId(`xc-${rt.name}`);
        const c = testConfig(id, ['sleep', '300']);
        const r = rt.run(['run', '-d', '-b', env.bundle(c), id], { output: join(env.dir, `${id}.out`) });
        t.equal(r.code, 0, `${rt.name} run -d: ${r.stderr}`);
        const rel = testCgroupPath(id);

        const implicit = rt.run(['exec', id, 'cat', '/proc/self/cgroup']);
        const explicit = rt.run(['exec', '--cgroup', '/', id, 'cat', '/proc/self/cgroup']);
        t.equal(explicit.code, 0, `${rt.name}: exec --cgroup / runs: ${explicit.stderr}`);
        t.same(explicit.stdout, implicit.stdout, `${rt.name}: the same cgroups as a plain exec`);
        t.ok(
          v1Lines(explicit.stdout).every((l) => l.endsWith(rel)),
          `${rt.name}: every v1 hierarchy at the container's cgroup: ${explicit.stdout}`,
        );
        const memTop = rt.run(['exec', '--cgroup', 'memory:/', id, 'true']);
        t.equal(memTop.code, 0, `${rt.name}: memory:/ runs: ${memTop.stderr}`);

        // Several controllers, one path (cpu and cpuacct are separate hierarchies here).
        const cpuDirs = cgroupDirsOf(rel).filter((d) => /^\/sys\/fs\/cgroup\/(cpu|cpuacct)\//.test(d));
        t.equal(cpuDirs.length, 2, 'cpu and cpuacct hierarchies');
        for (const d of cpuDirs) mkdirSync(join(d, 'sub'));
        const two = rt.run(['exec', '--cgroup', 'cpu,cpuacct:sub', id, 'cat', '/proc/self/cgroup']);
        t.equal(two.code, 0, `${rt.name}: cpu,cpuacct:sub runs: ${two.stderr}`);
        t.match(two.stdout, new RegExp(`^\\d+:cpu:.*${rel}/sub$`, 'm'), `${rt.name}: cpu in sub`);
        t.match(two.stdout, new RegExp(`^\\d+:cpuacct:.*${rel}/sub$`, 'm'), `${rt.name}: cpuacct in sub`);
        t.match(two.stdout, new RegExp(`^\\d+:memory:.*${rel}$`, 'm'), `${rt.name}: memory where it was`);

        const failures: [string, RegExp][] = [
          ['whaaat:/', /unknown controller whaaat/],
          ['nonexistent', / adding pid \d+ to cgroups: .*\/nonexistent\/cgroup\.procs: no such file /],
          ['cpu:nonexistent', / adding pid \d+ to cgroups: .*\/nonexistent\/cgroup\.procs: no such file /],
        ];
        for (const [flag, pattern] of failures) {
          const f = rt.run(['exec', '--cgroup', flag, id, 'true']);
          t.equal(f.code, 255, `${rt.name} --cgroup ${flag}: exec failed, 255`);
          t.match(f.stderr, pattern, `${rt.name} --cgroup ${flag}: runc's words`);
          if (rt.name === 'tsrun') t.ok(f.stderr.includes(`(--cgroup ${flag})`), `the flag named: ${f.stderr}`);
        }
        t.equal(rt.run(['delete', '--force', id]).code, 0);
      }
      env.done();
    },
  );
}
