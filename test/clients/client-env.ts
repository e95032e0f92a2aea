// What the client tests (containerd/ctr, dockerd, podman) share: a private
// scratch dir, the busybox image made from the test rootfs, a cgroup parent
// below our own cgroup that is removed afterwards, and a command runner.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync, readdirSync, rmdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import { REPO, cleanEnv, sharedRootfs, cgroupDirsOf, mountsUnder, type TestLike } from '../helpers/harness';

export const DAEMONS = join(REPO, 'hack', 'clients', 'daemons.sh');

/** The first of these names found in PATH (or as an absolute path). */
export function which(...names: string[]): string | undefined {
  for (const n of names) {
    if (n.startsWith('/') ? existsSync(n) : spawnSync('sh', ['-c', `command -v ${n}`]).status === 0) return n;
  }
  return undefined;
}

/** Missing commands, for a skip that says what to install. */
export function missing(cmds: string[]): string[] {
  return cmds.filter((c) => !which(c));
}

export interface Cmd {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a client command (tsrun under it gets no NODE_EXTRA_CA_CERTS, as on a real host). */
export function sh(cmd: string, args: string[], opts: { input?: string; timeout?: number } = {}): Cmd {
  const r = spawnSync(cmd, args, {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: opts.timeout ?? 60000,
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/**
 * A scratch dir removed at teardown (after the teardowns registered later,
 * which run first), with what a client left mounted in it (podman's storage
 * keeps its overlay mount after the command; its cleanup may still be running).
 */
export function scratch(t: TestLike, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => {
    for (const m of mountsUnder([dir]).sort((a, b) => b.length - a.length)) spawnSync('umount', ['--lazy', m]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A scratch dir whose `name` subdirectories each hold one client's daemons and images. */
export function clientDirs(t: TestLike, prefix: string): (name: string) => string {
  const base = scratch(t, prefix);
  return (name) => {
    const d = join(base, name);
    mkdirSync(d);
    return d;
  };
}

/**
 * containerd and dockerd on `dir` (daemons.sh: runtime "tsrun" is `tsrun`,
 * `args` go to dockerd), stopped at teardown, with the test rootfs imported
 * as `image`; docker against them.
 */
export function dockerOn(
  t: Test,
  dir: string,
  tsrun: string,
  args: string[],
  image: string,
): (args: string[], input?: string) => Cmd {
  execFileSync(DAEMONS, ['start-containerd', dir]);
  execFileSync(DAEMONS, ['start-dockerd', dir, tsrun, ...args]);
  t.teardown(() => execFileSync(DAEMONS, ['stop', dir]));
  const docker = (a: string[], input?: string) =>
    sh('/usr/bin/docker', ['-H', `unix://${join(dir, 'docker.sock')}`, ...a], { input });
  const im = sh('sh', ['-c', `/usr/bin/docker -H unix://${dir}/docker.sock import - ${image} <${rootfsTar(dir)}`]);
  t.equal(im.code, 0, `docker import: ${im.stderr}`);
  return docker;
}

/** The busybox test rootfs as a tar stream (docker import / podman import). */
export function rootfsTar(dir: string): string {
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', sharedRootfs(), '-cf', tar, '.']);
  return tar;
}

/**
 * The same rootfs as an OCI image layout tarball made with umoci (ctr image
 * import): tag "latest" runs /bin/sh; each of `more` is a further tag of the
 * same layer with those `umoci config` flags (e.g. another entrypoint).
 */
export function ociImageTar(dir: string, more: Record<string, string[]> = {}): string {
  const layout = join(dir, 'oci');
  const unpacked = join(dir, 'oci-bundle');
  const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: 'pipe' });
  umoci('init', '--layout', layout);
  umoci('new', '--image', `${layout}:latest`);
  umoci('unpack', '--image', `${layout}:latest`, unpacked);
  cpSync(sharedRootfs(), join(unpacked, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  umoci('repack', '--image', `${layout}:latest`, unpacked);
  for (const [tag, flags] of Object.entries(more))
    umoci('config', '--image', `${layout}:latest`, '--tag', tag, ...flags);
  umoci('config', '--image', `${layout}:latest`, '--config.cmd', '/bin/sh');
  const tar = join(dir, 'oci.tar');
  execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
  rmSync(unpacked, { recursive: true, force: true });
  return tar;
}

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => {
      const sep = f.indexOf('-');
      return sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2');
    })
    .map((f) => f[4]);
}

/**
 * An absolute cgroup path below our own cgroup in every hierarchy: our
 * deepest own path (on this hybrid host the memory controller's; the others
 * are at "/") plus a name. On a v2-only host (the test VM) below its parent
 * instead, as runc's fs2 driver places a relative path: our own cgroup holds
 * processes, so no controller can be enabled below it. Absolute, because podman makes --cgroup-parent
 * absolute. Cleanup removes every directory under it and the ancestors the
 * clients had to create, in every hierarchy.
 *
 * Client tests run concurrently (tap jobs) and share those ancestors: in
 * the hierarchies where we sit at "/", the deepest own path exists only
 * because some client test made it. Each test removes it when empty and
 * leaves it (EBUSY) while another test still has a cgroup in it; whichever
 * test ends last removes it. Shorter ancestors are removed only when they
 * did not exist before this test, never ones the host had.
 */
export function cgroupParent(t: TestLike, name: string): string {
  const own = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':').slice(2).join(':'))
    .reduce((a, b) => (b.length > a.length ? b : a), '/');
  const ownDirs = new Set(cgroupDirsOf(''));
  const base = existsSync('/sys/fs/cgroup/cgroup.controllers') ? dirname(own) : own;
  const parent = `${base === '/' ? '' : base}/${name}-${process.pid}`;
  const chain: string[] = [];
  for (let p = parent; p !== '' && p !== '/'; p = p.slice(0, p.lastIndexOf('/'))) chain.push(p);
  const mounts = cgroupMounts();
  const existed = new Set(mounts.flatMap((m) => chain.map((p) => m + p)).filter((d) => existsSync(d)));
  const removable = (m: string, p: string) => !existed.has(m + p) || (p === own && !ownDirs.has(m + p));
  t.teardown(() => {
    const removeTree = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(d, e.name));
      rmdirSync(d);
    };
    for (const m of mounts) removeTree(m + parent);
    for (const m of mounts) {
      for (const p of chain.slice(1)) {
        if (!removable(m, p)) continue;
        try {
          rmdirSync(m + p);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EBUSY' || code === 'ENOENT') break; // a concurrent client test's, or already gone
          throw e;
        }
      }
    }
  });
  return parent;
}

/** Every cgroup dir below `parent` in every hierarchy (the cgroups the runtime made and left). */
export function cgroupsBelow(parent: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        found.push(join(d, e.name));
        walk(join(d, e.name));
      }
    }
  };
  for (const m of cgroupMounts()) if (existsSync(join(m, parent))) walk(join(m, parent));
  return found;
}

/** Our cgroup dirs that remain under parent (to assert the runtime removed each container's). */
export function cgroupsLeft(parent: string, name: string): string[] {
  return cgroupMounts().filter((m) => existsSync(join(m, parent, name)));
}
