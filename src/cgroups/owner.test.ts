import t from 'tap';
import { defaultSpec } from '../spec/default';
import type { Spec } from '../spec/types';
import { cgroupOwner } from './owner';

/** runc's default spec with a cgroup namespace, /sys/fs/cgroup rw or ro, and optionally a user namespace. */
function config(opts: { rw: boolean; userns?: boolean; uid?: number; cgroupnsPath?: string }): Spec {
  const c = defaultSpec();
  c.linux!.namespaces = c.linux!.namespaces!.filter((ns) => ns.type !== 'cgroup');
  c.linux!.namespaces.push({ type: 'cgroup', path: opts.cgroupnsPath });
  const m = c.mounts!.find((x) => x.destination === '/sys/fs/cgroup')!;
  m.options = m.options!.filter((o) => o !== 'ro').concat(opts.rw ? ['rw'] : ['ro']);
  if (opts.userns) {
    c.linux!.namespaces.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }
  c.process!.user!.uid = opts.uid ?? 0;
  return c;
}

t.test('the owner is the host uid of process.user.uid, only for a new cgroupns and a rw cgroup mount', async (t) => {
  t.equal(cgroupOwner(config({ rw: true, userns: true })), 100000, 'container root → its host uid');
  t.equal(cgroupOwner(config({ rw: true, userns: true, uid: 1000 })), 101000, 'process.user.uid, mapped');
  t.equal(cgroupOwner(config({ rw: true })), 0, 'no user namespace: the uid itself (a chown to root)');
  t.equal(cgroupOwner(config({ rw: false, userns: true })), undefined, 'a read-only cgroup mount: unchanged');
  t.equal(
    cgroupOwner(config({ rw: true, userns: true, cgroupnsPath: '/proc/1/ns/cgroup' })),
    undefined,
    'a joined cgroup namespace: unchanged',
  );
  t.equal(cgroupOwner(config({ rw: true, userns: true, uid: 70000 })), undefined, 'an unmapped uid: unchanged');
  const noCgroupns = config({ rw: true, userns: true });
  noCgroupns.linux!.namespaces = noCgroupns.linux!.namespaces!.filter((ns) => ns.type !== 'cgroup');
  t.equal(cgroupOwner(noCgroupns), undefined, 'no cgroup namespace: unchanged');
  const elsewhere = config({ rw: true, userns: true });
  elsewhere.mounts!.find((x) => x.destination === '/sys/fs/cgroup')!.destination = '/mnt/cgroup';
  t.equal(cgroupOwner(elsewhere), undefined, 'the cgroup mount is not /sys/fs/cgroup: unchanged');
});
