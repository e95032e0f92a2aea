// From linux.namespaces to what the native spawn does: which namespaces to
// join (opened here, checked to be namespaces of the stated type), which to
// create, and the id maps / time offsets the parent writes for the child.
import { readlinkSync, writeFileSync } from 'node:fs';
import type { Spec, LinuxNamespaceType } from '../spec/types';
import { planIdMaps, writeIdMapsFor } from './id-maps';
import { InvalidInputError } from '../errors';
import { CLONE, nsType } from '../sys/ns';
import { open, O, fsType, FS_MAGIC, closeQuiet } from '../sys/fs';
import { SysError } from '../sys/libc';

export const NS_FLAG: Record<LinuxNamespaceType, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** The name the kernel uses in /proc/<pid>/ns and in nsfs link targets. */
export const NS_PROC_NAME: Record<LinuxNamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

export interface NamespacePlan {
  /** Joined by the native helper (all but mount). */
  joins: { fd: number; type: number; path: string }[];
  /** A mount namespace to join: the init does it on its main thread. */
  mountJoinFd?: number;
  /** Created by the native helper (all but cgroup). */
  unshareFlags: number;
  /** The cgroup namespace is created by the init, after it was put in its cgroup. */
  newCgroupNs: boolean;
  forkAgain: boolean;
  newUserNs: boolean;
  has(type: LinuxNamespaceType): boolean;
}

/** Open a namespace file and make sure it is a namespace of `type`. */
function openNamespace(path: string, type: LinuxNamespaceType, where: string): number {
  let fd: number;
  try {
    fd = open(path, O.RDONLY);
  } catch (e) {
    throw new InvalidInputError(
      `config.json: ${where}/path: cannot open ${path}: ${e instanceof SysError ? e.code : (e as Error).message}`,
    );
  }
  const found = fsType(fd) === FS_MAGIC.NSFS ? namespaceTypeOf(fd, path) : 'not a namespace file';
  if (found !== type) {
    closeQuiet(fd);
    throw new InvalidInputError(
      `config.json: ${where}/path: ${path} is not a ${type} namespace ` +
        `(${found === 'not a namespace file' ? found : `it is a ${found} namespace`})`,
    );
  }
  return fd;
}

/**
 * What the kernel says the nsfs fd is. A bind-mounted namespace file (ip netns,
 * CNI's /run/netns/*) links to its mount path, not to "net:[…]", so the link
 * text is only the fallback for kernels without NS_GET_NSTYPE.
 */
function namespaceTypeOf(fd: number, path: string): string {
  const flag = nsType(fd, path);
  if (flag !== undefined) {
    const type = (Object.keys(NS_FLAG) as LinuxNamespaceType[]).find((t) => NS_FLAG[t] === flag);
    return type ?? `unknown (0x${flag.toString(16)})`;
  }
  const link = readlinkSync(`/proc/self/fd/${fd}`);
  const type = (Object.keys(NS_PROC_NAME) as LinuxNamespaceType[]).find((t) => link.startsWith(`${NS_PROC_NAME[t]}:[`));
  return type ?? `unknown (${link})`;
}

export function planNamespaces(config: Spec): NamespacePlan {
  const list = config.linux?.namespaces ?? [];
  const plan: NamespacePlan = {
    joins: [],
    unshareFlags: 0,
    newCgroupNs: false,
    forkAgain: false,
    newUserNs: false,
    has: (t) => list.some((n) => n.type === t),
  };
  try {
    list.forEach((ns, i) => {
      const where = `/linux/namespaces/${i}`;
      if (ns.path) {
        const fd = openNamespace(ns.path, ns.type, where);
        if (ns.type === 'mount') plan.mountJoinFd = fd;
        else plan.joins.push({ fd, type: NS_FLAG[ns.type], path: ns.path });
      } else if (ns.type === 'cgroup') {
        plan.newCgroupNs = true;
      } else {
        plan.unshareFlags |= NS_FLAG[ns.type];
      }
      if (ns.type === 'pid' || ns.type === 'time') plan.forkAgain = true;
      if (ns.type === 'user' && !ns.path) plan.newUserNs = true;
    });
  } catch (e) {
    closeNamespaces(plan);
    throw e;
  }
  return plan;
}

export function closeNamespaces(plan: NamespacePlan): void {
  for (const j of plan.joins) closeQuiet(j.fd);
  closeQuiet(plan.mountJoinFd);
}

/** Parent side of the user-namespace handshake: uid_map, setgroups, gid_map (see id-maps.ts). */
export function writeIdMaps(pid: number, config: Spec): void {
  writeIdMapsFor(pid, planIdMaps(config));
}

/** Parent side of the time-namespace handshake. */
export function writeTimeOffsets(pid: number, config: Spec): void {
  const offsets = config.linux?.timeOffsets ?? {};
  const text = Object.entries(offsets)
    .filter(([, v]) => v)
    .map(([clock, v]) => `${clock} ${v!.secs ?? 0} ${v!.nanosecs ?? 0}\n`)
    .join('');
  if (!text) return;
  try {
    writeFileSync(`/proc/${pid}/timens_offsets`, text);
  } catch (e) {
    throw new InvalidInputError(
      `config.json: /linux/timeOffsets: write /proc/${pid}/timens_offsets: ${(e as NodeJS.ErrnoException).code}`,
    );
  }
}
