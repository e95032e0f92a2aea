// The runtime-spec features document (features.md, features-linux.md, as of
// ociVersionMax) that `tsrun features` prints. It claims only what works:
// test/integration/spec/features-truth.test.ts holds each claim against a container,
// and its shape is the spec's (schemas/features.schema.json, checked at compile time below).
import { readFileSync } from 'node:fs';
import { version as tsrunVersion } from '../../package.json';
import { kernelCapabilities } from './capabilities';
import type { FeaturesDocument, HookKind, LinuxNamespaceType, MemoryPolicyFlag, MemoryPolicyMode } from './types';
import { OCI_VERSION_MAX, OCI_VERSION_MIN } from './version';
import { seccompFeatures, type SeccompFeatures } from '../seccomp/features';
import { cgroupFeatures, type CgroupFeatures } from '../cgroups';
import { knownMountOptions } from '../linux/mount-options';
import { hasMountSetattr } from '../sys/mount';
import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from '../linux/mempolicy';
import { apparmorEnabled } from '../linux/lsm';

const HOOKS: HookKind[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

const NAMESPACES: LinuxNamespaceType[] = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

/**
 * config.json annotations that change what tsrun does: "org.systemd.property." (under --systemd-cgroup the
 * container's systemd unit gets them as properties, as in runc). Of runc's other two, "bundle" (runc keeps
 * annotations beside its own bundle label, which `runc exec` reads back first, and drops it from state) and
 * "org.criu.config" (no checkpoint/restore) have no counterpart here: tsrun stores them for `state` and the hooks.
 */
const UNSAFE_ANNOTATIONS: string[] = ['org.systemd.property.'];

/** The document as tsrun prints it: every property the spec defines is present. */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: HookKind[];
  mountOptions: string[];
  linux: {
    namespaces: LinuxNamespaceType[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: SeccompFeatures | { enabled: false };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean; schemata: boolean; monitoring: boolean };
    memoryPolicy: { modes: MemoryPolicyMode[]; flags: MemoryPolicyFlag[] };
    mountExtensions: { idmap: { enabled: boolean } };
    netDevices: { enabled: boolean };
  };
  annotations: Record<string, string>;
  potentiallyUnsafeConfigAnnotations: string[];
}

// Compile-time: no property the spec's features schema lacks (features.md: the structure "MUST NOT contain
// properties that are not defined in this version"); the values' types are held to it in features() below.
type Extra =
  | Exclude<keyof Features, keyof FeaturesDocument>
  | Exclude<keyof Features['linux'], keyof NonNullable<FeaturesDocument['linux']>>;
type NoExtra<T extends never> = T;
export type FeaturesHaveNoExtraProperty = NoExtra<Extra>;

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
  const doc: Features = {
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
        // The systemd driver with the system's instance on any host systemd runs; a rootless caller's own
        // instance only on a cgroup v2 host (runc refuses rootless systemd on v1).
        systemd: cg.systemd,
        systemdUser: cg.systemd && cg.mode === 'v2',
        rdma: cg.controllers.rdma !== undefined,
      },
      seccomp: seccompFeatures(),
      // tsrun applies profiles, but only where AppArmor is the host's LSM; elsewhere it refuses them.
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: false },
      // linux.intelRdt (with schemata, enableMonitoring) is refused by name: src/spec/unimplemented.ts.
      intelRdt: { enabled: false, schemata: false, monitoring: false },
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
    potentiallyUnsafeConfigAnnotations: [...UNSAFE_ANNOTATIONS],
  };
  return doc satisfies FeaturesDocument;
}
