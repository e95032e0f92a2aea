// The runtime-spec features document (features.md, features-linux.md, as of
// ociVersionMax) that `tsrun features` prints. It claims only what works:
// test/integration/spec/features-truth.test.ts holds each claim against a container.
import { readFileSync } from 'node:fs';
import { version as tsrunVersion } from '../../package.json';
import { kernelCapabilities } from './capabilities';
import type { HookKind, LinuxNamespaceType } from './types';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './version';
import { seccompFeatures, type SeccompFeatures } from '../seccomp/features';
import { cgroupFeatures, type CgroupFeatures } from '../cgroups';
import { knownMountOptions } from '../linux/mount-options';
import { hasMountSetattr } from '../sys/mount';
import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from '../linux/mempolicy';
import { apparmorEnabled } from '../linux/lsm';

const HOOKS: HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

const NAMESPACES: LinuxNamespaceType[] = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: SeccompFeatures | { enabled: false };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    memoryPolicy: { modes: string[]; flags: string[] };
    mountExtensions: { idmap: { enabled: boolean } };
    netDevices: { enabled: boolean };
  };
  annotations: Record<string, string>;
}

/** What the cgroup code can use on this host, as vendor annotations (strings, as the spec requires). */
function cgroupAnnotations(cg: CgroupFeatures): Record<string, string> {
  const list = (xs: string[]) => xs.sort().join(',');
  const files = Object.entries(cg.files);
  return {
    'io.github.tsrun.cgroup.mode': cg.mode,
    'io.github.tsrun.cgroup.controllers': list(Object.entries(cg.controllers).map(([c, v]) => `${c}:v${v}`)),
    'io.github.tsrun.cgroup.devices': cg.devices,
    'io.github.tsrun.cgroup.freezer': cg.freezer,
    'io.github.tsrun.cgroup.kill': String(cg.kill),
    'io.github.tsrun.cgroup.files': list(files.filter(([, ok]) => ok).map(([f]) => f)),
    'io.github.tsrun.cgroup.files.missing': list(files.filter(([, ok]) => !ok).map(([f]) => f)),
    'io.github.tsrun.cgroup.hugepageSizes': list(cg.hugepageSizes),
  };
}

export function features(
  readLastCap = () => readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'),
  readCgroups: () => CgroupFeatures = cgroupFeatures,
): Features {
  const cg = readCgroups();
  const hasV1 = Object.values(cg.controllers).includes(1);
  const hasV2 = cg.mode !== 'v1';
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOKS],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: [...NAMESPACES],
      capabilities: kernelCapabilities(readLastCap),
      // What works on this host: a version tsrun implements and the host mounts.
      cgroup: {
        v1: hasV1,
        v2: hasV2,
        systemd: false,
        systemdUser: false,
        rdma: cg.controllers.rdma !== undefined,
      },
      seccomp: seccompFeatures(),
      // tsrun applies profiles, but only where AppArmor is the host's LSM; elsewhere it refuses them.
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      memoryPolicy: { modes: [...MEMORY_POLICY_MODES].sort(), flags: [...MEMORY_POLICY_FLAGS].sort() },
      // MOUNT_ATTR_IDMAP came with mount_setattr (Linux 5.12); whether a given filesystem can be id-mapped is its own
      // matter.
      mountExtensions: { idmap: { enabled: hasMountSetattr() } },
      netDevices: { enabled: true },
    },
    // The spec has no field for it: whether tsrun runs containers for an unprivileged caller.
    annotations: {
      'io.github.tsrun.version': tsrunVersion,
      'io.github.tsrun.rootless': 'true',
      ...cgroupAnnotations(cg),
    },
  };
}
