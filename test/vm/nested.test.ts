// Nesting on a cgroup v2 host (the test VM): a tsrun container with a cgroup
// namespace, /sys/fs/cgroup read-write, every capability, and dist/tsrun,
// runc and a busybox rootfs bind-mounted in, runs containers itself, with
// tsrun and runc 1.1.5 side by side on the same inner bundle.
//
// Inside, its own cgroup is the namespace's root "/" and holds the outer
// shell: no domain controller can be enabled there for a child ("no internal
// processes"; an inner container with a memory limit fails under both
// runtimes, seen in earlier runs), and the threaded controllers both enable
// one by one make "/" a thread root, after which no new child takes a
// process. So the outer shell first moves into a leaf (docker-in-docker's
// entrypoint, kind); then the inner container's default cgroup (the relative
// path <id>, below the parent of the own cgroup "/init": "/") is a sibling of
// that leaf and gets its limit: the delegated subtree.
import t from 'tap';
import { mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseState, REPO, sharedRootfs, testConfig, testEnv, TSRUN, uniqueId } from '../helpers/harness';
import { hasRunc } from '../helpers/runc';
import { waitFor } from '../helpers/wait';
import { cgroupDir, cgroupFile, cgroupOf, requireV2Host } from '../helpers/v2';
import { kernelCapabilities } from '../../src/spec/capabilities';
import type { Spec } from '../../src/spec/types';

const MEM = 32 << 20;

/** A root for the outer container: the VM's /usr and /etc (so its tsrun and runc run), the rest made inside. */
function outerRootfs(dir: string): string {
  const root = join(dir, 'outer-root');
  for (const d of ['usr', 'etc', 'proc', 'sys', 'dev', 'run', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${l}`, join(root, l));
  return root;
}

const bind = (path: string, ro = true) => ({
  destination: path,
  type: 'bind',
  source: path,
  options: ['rbind', ro ? 'ro' : 'rw'],
});

/** The outer container: cgroupns, /sys/fs/cgroup rw, every capability and device, what the inner runtimes need. */
function outerConfig(id: string, dir: string, script: string): Spec {
  const c = testConfig(id, ['sh', '-c', script]);
  c.root = { path: outerRootfs(dir), readonly: true };
  const all = kernelCapabilities();
  c.process!.capabilities = { bounding: all, effective: all, permitted: all };
  c.process!.env = [...(c.process!.env ?? []), 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  c.linux!.namespaces!.push({ type: 'cgroup' });
  c.linux!.resources = { devices: [{ allow: true, access: 'rwm' }] };
  c.linux!.maskedPaths = [];
  c.linux!.readonlyPaths = [];
  const cg = c.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!;
  cg.options = cg.options!.filter((o) => o !== 'ro').concat('rw');
  // /tmp first: the rootfs and the bundles below the VM's /tmp are bound onto it.
  c.mounts!.push(
    { destination: '/run', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
    bind('/usr'),
    bind('/etc'),
    bind(REPO),
    bind(sharedRootfs()),
    bind(dir),
  );
  return c;
}

/** A shell function: run one inner container with runtime $1 (tsrun|runc), bundle $2, id $3; prints its outcome. */
const INNER_RUN = `
inner() {
  if [ "$1" = tsrun ]; then bin=${TSRUN}; else bin=/usr/sbin/runc; fi
  if $bin --root /run/$1 run -d -b "$2" "$3" </dev/null >/tmp/$3.log 2>&1; then
    pid=$($bin --root /run/$1 state "$3" | sed -n 's/^ *"pid": *\\([0-9]*\\).*/\\1/p')
    echo "$3: running in $(cat /proc/$pid/cgroup)"
    echo "$3: memory.max $(cat /sys/fs/cgroup/$3/memory.max 2>&1)"
    echo "$3: type $(cat /sys/fs/cgroup/$3/cgroup.type 2>&1)"
  else
    echo "$3: failed: $(tail -n 1 /tmp/$3.log)"
  fi
}`;

if (requireV2Host(t)) {
  t.test('tsrun in a tsrun container: the inner container gets its own sub-cgroup with its limit', async (t) => {
    const env = testEnv(t);
    const inner = testConfig('inner', ['sleep', '1000']);
    delete inner.linux!.cgroupsPath;
    inner.linux!.resources = { memory: { limit: MEM } };
    const limited = env.bundle(inner, 'inner-limited');
    const rts = hasRunc ? ['tsrun', 'runc'] : ['tsrun'];
    const script = [
      INNER_RUN,
      'echo "outer: $(cat /proc/self/cgroup) $(cat /sys/fs/cgroup/cgroup.controllers)"',
      // docker-in-docker's cure: the outer processes leave the namespace's root for a leaf.
      'mkdir /sys/fs/cgroup/init && echo $$ > /sys/fs/cgroup/init/cgroup.procs',
      'echo "moved: $(cat /proc/self/cgroup)"',
      ...rts.map((rt) => `inner ${rt} ${limited} nested-${rt}`),
      'echo done; exec sleep 1000',
    ].join('\n');
    const id = uniqueId('outer');
    const out = join(env.dir, `${id}.out`);
    const r = env.run(['create', '-b', env.bundle(outerConfig(id, env.dir, script)), id], { output: out });
    t.equal(r.code, 0, `create the outer container: ${r.stderr}`);
    const outer = cgroupOf(parseState(env.run(['state', id])).pid as number);
    t.equal(env.run(['start', id]).code, 0, 'start');
    const o = await waitFor(() => readFileSync(out, 'utf8'), { timeoutMs: 120000, done: (s) => s.includes('done') });
    t.match(o, /^outer: 0::\/ cpuset cpu io memory/m, "the outer container's cgroup is its namespace's root");
    t.match(o, /^moved: 0::\/init$/m, 'the outer shell moved to /init');
    for (const rt of rts) {
      t.match(
        o,
        new RegExp(`^nested-${rt}: running in 0::/nested-${rt}$`, 'm'),
        `${rt}: the inner container's cgroup is /<id> inside`,
      );
      t.match(o, new RegExp(`^nested-${rt}: memory.max ${MEM}$`, 'm'), `${rt}: with its memory limit`);
      const host = `${outer}/nested-${rt}`;
      t.equal(cgroupFile(host, 'memory.max'), String(MEM), `${rt}: outside, ${host} has memory.max`);
      const procs = cgroupFile(host, 'cgroup.procs').split('\n').map(Number);
      t.equal(procs.length, 1, `${rt}: the inner sleep is there`);
      t.equal(cgroupOf(procs[0]), host, `${rt}: and /proc/PID/cgroup says so from the host`);
      t.equal(cgroupFile(outer, 'cgroup.subtree_control').includes('memory'), true, 'memory enabled for the inner');
    }
    t.equal(env.run(['delete', '--force', id]).code, 0, 'delete --force the outer container');
    t.throws(() => statSync(cgroupDir(outer)), 'its cgroup is gone, with the inner ones');
    env.done();
  });
}
