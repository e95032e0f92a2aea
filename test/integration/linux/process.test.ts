// Process attributes applied for real, as root, in a child node process:
// credentials, capabilities, rlimits, oomScoreAdj, noNewPrivileges. The pure
// parts (PATH lookup, LSM refusals, HOME) are in src/linux/process.test.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAPS } from '../../../src/linux/capabilities';
import { FIXTURES } from '../../helpers/paths';
import { isRoot } from '../../helpers/root';

const fixture = join(FIXTURES, 'linux', 'apply-process.ts');
// An ESM loader: tap's process-info hooks are injected into child node processes too.
const tsx = pathToFileURL(require.resolve('tsx')).href;

/** tap's NODE_OPTIONS (coverage/process-info loaders) would break the child's tsx. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

interface Report {
  status?: string;
  limits?: string;
  oomScoreAdj?: string;
  execStatus?: string;
  execError?: string;
  error?: string;
}

/** Runs the fixture in a fresh node process (optionally under a wrapper such as unshare). */
function applyInChild(plan: object, wrapper: string[] = []): Report {
  const argv = [...wrapper, process.execPath, '--import', tsx, fixture, JSON.stringify(plan)];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: cleanEnv() });
  if (r.status !== 0) throw new Error(`fixture failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * RLIM_INFINITY as config.json spells it, 18446744073709551615 (2^64 - 1), is the double 2^64 once parsed:
 * the value this test has always sent, written so that no digit pretends to more precision.
 */
const RLIM_INFINITY = 2 ** 64;

function field(status: string | undefined, name: string): string {
  const m = status?.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'm'));
  if (!m) throw new Error(`no ${name}: line in ${status}`);
  return m[1].trim();
}

const hex = (names: string[]) =>
  names
    .reduce((m, n) => m | (1n << BigInt(CAPS[n])), 0n)
    .toString(16)
    .padStart(16, '0');

t.test('user switch keeps exactly the configured capability sets', { skip: !isRoot && 'needs root' }, async (t) => {
  const r = applyInChild({
    user: { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 },
    capabilities: {
      bounding: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      effective: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    },
  });
  t.equal(r.error, undefined, 'no error');
  t.equal(field(r.status, 'Uid'), '1000\t1000\t1000\t1000');
  t.equal(field(r.status, 'Gid'), '1000\t1000\t1000\t1000');
  t.equal(field(r.status, 'Groups'), '10 20');
  t.equal(field(r.status, 'Umask'), '0027');
  t.equal(field(r.status, 'CapBnd'), hex(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL']));
  t.equal(field(r.status, 'CapEff'), hex(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']));
  t.equal(field(r.status, 'CapPrm'), hex(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL']));
  t.equal(field(r.status, 'CapInh'), hex(['CAP_NET_BIND_SERVICE']));
  t.equal(field(r.status, 'CapAmb'), hex(['CAP_NET_BIND_SERVICE']));
  // After execve a non-root program keeps only its ambient capabilities.
  t.equal(field(r.execStatus, 'Uid'), '1000\t1000\t1000\t1000', 'exec: uid');
  t.equal(field(r.execStatus, 'CapEff'), hex(['CAP_NET_BIND_SERVICE']), 'exec: effective = ambient');
  t.equal(field(r.execStatus, 'CapPrm'), hex(['CAP_NET_BIND_SERVICE']), 'exec: permitted = ambient');
  t.equal(field(r.execStatus, 'CapAmb'), hex(['CAP_NET_BIND_SERVICE']), 'exec: ambient kept');
  t.equal(field(r.execStatus, 'CapBnd'), hex(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL']), 'exec: bounding kept');
});

t.test(
  'root user: capabilities become exactly the lists; no lists → none',
  { skip: !isRoot && 'needs root' },
  async (t) => {
    const r = applyInChild({
      user: { uid: 0, gid: 0 },
      capabilities: {
        bounding: ['CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE'],
        effective: ['CAP_AUDIT_WRITE'],
        permitted: ['CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE'],
      },
    });
    t.equal(r.error, undefined, 'no error');
    t.equal(field(r.status, 'Groups'), '', 'inherited supplementary groups cleared');
    t.equal(field(r.status, 'CapBnd'), hex(['CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE']));
    t.equal(field(r.status, 'CapEff'), hex(['CAP_AUDIT_WRITE']));
    t.equal(field(r.status, 'CapPrm'), hex(['CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE']));
    t.equal(field(r.status, 'CapInh'), hex([]));
    t.equal(field(r.status, 'CapAmb'), hex([]));
    // Root regains its permitted set (∩ bounding) at execve.
    t.equal(field(r.execStatus, 'CapEff'), hex(['CAP_SYS_ADMIN', 'CAP_AUDIT_WRITE']), 'exec as root: bounding set');
  },
);

t.test('no capabilities object: a non-root user ends with none', { skip: !isRoot && 'needs root' }, async (t) => {
  const r = applyInChild({ user: { uid: 1000, gid: 1000 } });
  t.equal(r.error, undefined, 'no error');
  t.equal(field(r.status, 'CapEff'), hex([]));
  t.equal(field(r.status, 'CapPrm'), hex([]));
  t.equal(field(r.execStatus, 'CapEff'), hex([]));
});

// Issue 18: an unknown name is ignored (the config check warns, as runc does); it used to fail here.
t.test('an unknown capability is ignored and the rest are granted', { skip: !isRoot && 'needs root' }, async (t) => {
  const r = applyInChild({
    user: { uid: 0, gid: 0 },
    capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN', 'CAP_FLY'], permitted: ['CAP_FLY', 'CAP_CHOWN'] },
  });
  t.equal(r.error, undefined, 'no error');
  t.equal(field(r.status, 'CapBnd'), hex(['CAP_CHOWN']));
  t.equal(field(r.status, 'CapEff'), hex(['CAP_CHOWN']));
  t.equal(field(r.status, 'CapPrm'), hex(['CAP_CHOWN']));
});

t.test('noNewPrivileges is set and survives execve', { skip: !isRoot && 'needs root' }, async (t) => {
  const r = applyInChild({ user: { uid: 1000, gid: 1000 }, noNewPrivileges: true });
  t.equal(r.error, undefined, 'no error');
  t.equal(field(r.status, 'NoNewPrivs'), '1');
  t.equal(field(r.execStatus, 'NoNewPrivs'), '1');
  const off = applyInChild({ noNewPrivileges: false });
  t.equal(field(off.status, 'NoNewPrivs'), '0', 'false leaves it off');
});

t.test(
  'rlimits, including unlimited and raising the hard limit before the user switch',
  { skip: !isRoot && 'needs root' },
  async (t) => {
    const r = applyInChild({
      user: { uid: 1000, gid: 1000 },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 },
        { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
        { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
      ],
    });
    t.equal(r.error, undefined, 'no error');
    t.match(r.limits, /^Max open files\s+1024\s+2048\s+files/m);
    t.match(r.limits, /^Max core file size\s+unlimited\s+unlimited/m);
    t.match(r.limits, /^Max processes\s+100\s+200/m);
    const bad = applyInChild({ rlimits: [{ type: 'RLIMIT_WINGS', soft: 1, hard: 1 }] });
    t.equal(bad.error, 'process.rlimits[0]: unknown rlimit type "RLIMIT_WINGS"');
    const inverted = applyInChild({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 300, hard: 200 }] });
    t.equal(inverted.error, 'prlimit(RLIMIT_NOFILE, soft=300, hard=200): EINVAL');
  },
);

t.test('oomScoreAdj', { skip: !isRoot && 'needs root' }, async (t) => {
  t.equal(applyInChild({ oomScoreAdj: 432 }).oomScoreAdj, '432');
  // Lowering needs CAP_SYS_RESOURCE in the initial user namespace, which
  // some sandboxes withhold even from root; then the error must say so.
  const canLower = spawnSync('sh', ['-c', 'echo -1 > /proc/self/oom_score_adj']).status === 0;
  const low = applyInChild({ user: { uid: 1000, gid: 1000 }, oomScoreAdj: -17 });
  if (canLower) t.equal(low.oomScoreAdj, '-17', 'lowered before the user switch');
  else t.equal(low.error, 'write(/proc/self/oom_score_adj, "-17"): EACCES', 'this host refuses lowering: clear error');
});

t.test('additionalGids in a user namespace where setgroups is denied', { skip: !isRoot && 'needs root' }, async (t) => {
  const wrapper = ['unshare', '--user', '--map-root-user'];
  const denied = applyInChild({ user: { uid: 0, gid: 0, additionalGids: [0] } }, wrapper);
  t.match(denied.error, /cannot set additional groups \[0\] \(process.user.additionalGids\): setgroups is denied/);
  const fine = applyInChild({ user: { uid: 0, gid: 0 } }, wrapper);
  t.equal(fine.error, undefined, 'no groups asked for: skipped');
  t.equal(field(fine.status, 'Uid'), '0\t0\t0\t0');
});
