// Joining namespaces the way CRI pods do: a network namespace made by
// `ip netns add` (an nsfs inode bind-mounted onto /run/netns/NAME), and a
// pod-like pair where a second container joins the first one's namespaces
// through /proc/PID/ns paths and through bind-mounted copies of them.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readlinkSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT_REASON, testEnv, testConfig, uniqueId, parseState, type Env } from '../../helpers/harness';
import type { LinuxNamespaceType } from '../../../src/spec/types';

const POD_TYPES: LinuxNamespaceType[] = ['network', 'ipc', 'uts', 'pid'];
const PROC_NAME: Record<string, string> = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid' };

/** Run a container that joins `joins` (type → path) and prints its namespace links. */
function joinedLinks(
  env: Env,
  joins: Partial<Record<LinuxNamespaceType, string>>,
): { code: number | null; links: Record<string, string>; stderr: string } {
  const id = uniqueId('join');
  const names = Object.keys(joins).map((ty) => PROC_NAME[ty]);
  const config = testConfig(id, ['sh', '-c', names.map((n) => `echo ${n}=$(readlink /proc/self/ns/${n})`).join('; ')]);
  config.linux!.namespaces = config.linux!.namespaces!.map((ns) =>
    joins[ns.type] ? { type: ns.type, path: joins[ns.type] } : ns,
  );
  const r = env.run(['run', '-b', env.bundle(config), id]);
  const links = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=') as [string, string]),
  );
  return { code: r.code, links, stderr: r.stderr };
}

if (!isRoot) {
  t.plan(0, ROOT_REASON);
} else {
  t.test('a network namespace made by ip netns add', async (t) => {
    const env = testEnv(t);
    const name = uniqueId('tsrun-netns');
    execFileSync('ip', ['netns', 'add', name]);
    t.teardown(() => execFileSync('ip', ['netns', 'delete', name]));
    const file = `/run/netns/${name}`;
    const fd = openSync(file, 'r');
    t.equal(
      readlinkSync(`/proc/self/fd/${fd}`),
      file,
      'its fd links to the mount path, not to net:[…]: only the kernel can tell the type',
    );
    closeSync(fd);
    const r = joinedLinks(env, { network: file });
    t.equal(r.code, 0, `run joins ${file}: ${r.stderr}`);
    t.equal(r.links.net, `net:[${statSync(file).ino}]`, 'the container is in the netns the file holds');
    env.done();
  });

  t.test('a pod: a second container joins the first one through /proc/PID/ns and bind-mounted copies', async (t) => {
    const env = testEnv(t);
    const pause = uniqueId('pause');
    t.equal(
      env.run(['run', '-d', '-b', env.bundle(testConfig(pause, ['sleep', '1000'])), pause]).code,
      0,
      'pause container runs',
    );
    const pid = Number(parseState(env.run(['state', pause])).pid);
    const want = Object.fromEntries(
      POD_TYPES.map((ty) => [PROC_NAME[ty], readlinkSync(`/proc/${pid}/ns/${PROC_NAME[ty]}`)]),
    );

    const viaProc = joinedLinks(
      env,
      Object.fromEntries(POD_TYPES.map((ty) => [ty, `/proc/${pid}/ns/${PROC_NAME[ty]}`])),
    );
    t.equal(viaProc.code, 0, `joined through /proc/${pid}/ns: ${viaProc.stderr}`);
    t.same(viaProc.links, want, 'same net, ipc, uts and pid namespaces as the pause container');

    const copies: Partial<Record<LinuxNamespaceType, string>> = {};
    for (const ty of POD_TYPES) {
      const file = join(env.dir, `pod-${PROC_NAME[ty]}`);
      writeFileSync(file, '');
      execFileSync('mount', ['--bind', `/proc/${pid}/ns/${PROC_NAME[ty]}`, file]);
      copies[ty] = file;
    }
    const unmount = () => Object.values(copies).forEach((f) => execFileSync('umount', [f!]));
    try {
      const viaCopies = joinedLinks(env, copies);
      t.equal(viaCopies.code, 0, `joined through bind-mounted copies: ${viaCopies.stderr}`);
      t.same(viaCopies.links, want, 'the copies lead to the pause container namespaces');
    } finally {
      unmount();
    }
    t.equal(env.run(['delete', '--force', pause]).code, 0);
    env.done();
  });
}
