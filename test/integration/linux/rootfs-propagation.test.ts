// linux.rootfsPropagation, all eight values runc accepts (containerd's CRI
// plugin sends rslave and rshared), seen from inside the container: the
// propagation of /, of a mount the container made (/proc) and of a volume
// bound from a shared host mount. The host side runs in a private mount
// namespace of its own, so the shared tmpfs it makes has no peer outside this
// test (a shared mount under /tmp would gain peers in every other test's
// containers that bind /tmp).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, TSRUN, cleanEnv } from '../../helpers/harness';

// [/, /proc, /vol] as mountinfo's optional fields say: shared:N, master:N, unbindable, or none.
const EXPECTED: Record<string, [string, string, string]> = {
  shared: ['shared', 'private', 'shared'],
  slave: ['private', 'private', 'shared'],
  private: ['private', 'private', 'shared'],
  unbindable: ['unbindable', 'private', 'master'],
  rshared: ['shared', 'shared', 'shared'],
  rslave: ['private', 'private', 'master'],
  rprivate: ['private', 'private', 'private'],
  runbindable: ['unbindable', 'unbindable', 'unbindable'],
};

const kind = (optional: string[]) =>
  optional
    .map((o) => o.replace(/:\d+$/, ''))
    .sort()
    .join('+') || 'private';

/** mountpoint → propagation kind, from mountinfo lines (the last mount of a path wins). */
function propagationOf(mountinfo: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mountinfo.split('\n').filter(Boolean)) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    out.set(fields[4], kind(fields.slice(6, sep)));
  }
  return out;
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  for (const [value, [root, proc, vol]] of Object.entries(EXPECTED)) {
    t.test(`rootfsPropagation ${value}`, async (t) => {
      const env = testEnv(t);
      const src = join(env.dir, 'shared-src');
      mkdirSync(src);
      const id = uniqueId('prop');
      const config = testConfig(id, ['cat', '/proc/self/mountinfo']);
      config.linux!.rootfsPropagation = value as 'shared';
      config.mounts!.push({ destination: '/vol', type: 'bind', source: src, options: ['rbind'] });
      const bundle = env.bundle(config);
      const script = `mount -t tmpfs vol "$1" && mount --make-shared "$1" && exec "$2" --root "$3" run -b "$4" "$5"`;
      const r = spawnSync(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', src, TSRUN, env.root, bundle, id],
        {
          encoding: 'utf8',
          env: cleanEnv(),
          timeout: 60000,
        },
      );
      t.equal(r.status, 0, `run: ${r.stderr}`);
      const seen = propagationOf(r.stdout);
      t.same([seen.get('/'), seen.get('/proc'), seen.get('/vol')], [root, proc, vol], '/, /proc and /vol propagation');
      env.done();
    });
  }

  t.test('a value that is not one of the eight is refused by name', async (t) => {
    const env = testEnv(t);
    const id = uniqueId('prop');
    const config = testConfig(id, ['true']) as unknown as { linux: Record<string, unknown> };
    config.linux.rootfsPropagation = 'rslaved';
    const r = env.run(['run', '-b', env.bundle(config as never), id]);
    t.equal(r.code, 1);
    t.match(
      r.stderr,
      /config\.json: \/linux\/rootfsPropagation: must be one of: "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"/,
    );
    env.done();
  });
}
