// Docker/containers-common seccomp profiles (archMap, includes/excludes by
// arch and capability) reduced to an OCI linux.seccomp for one host, as
// dockerd and podman do before handing the config to the runtime.
import type { LinuxSeccomp, LinuxSyscall } from '../spec/types';
import type { ArchDef } from './arch';

export interface DockerProfile {
  defaultAction: LinuxSeccomp['defaultAction'];
  defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  architectures?: LinuxSeccomp['architectures'];
  syscalls?: (LinuxSyscall & { includes?: Filter; excludes?: Filter })[];
}
interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

// Docker's arch names in includes/excludes (Go's GOARCH values).
const GOARCH: Record<string, string> = { x86_64: 'amd64', x86: '386', x32: 'x32', aarch64: 'arm64', arm: 'arm' };

export function isDockerProfile(x: unknown): x is DockerProfile {
  const o = x as DockerProfile;
  return (
    !!o && typeof o === 'object' && ('archMap' in o || !!o.syscalls?.some((s) => 'includes' in s || 'excludes' in s))
  );
}

export function fromDockerProfile(
  p: DockerProfile,
  native: ArchDef,
  caps: string[] = DOCKER_DEFAULT_CAPS,
): LinuxSeccomp {
  const goarch = GOARCH[native.name];
  const matches = (f: Filter | undefined) =>
    (!f?.arches?.length || f.arches.includes(goarch)) && (!f?.caps?.length || f.caps.every((c) => caps.includes(c)));
  const excluded = (f: Filter | undefined) =>
    !!f &&
    ((!!f.arches?.length && f.arches.includes(goarch)) || (!!f.caps?.length && f.caps.some((c) => caps.includes(c))));
  const entry = p.archMap?.find((a) => a.architecture === native.scmp);
  const architectures = (
    entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : (p.architectures ?? [])
  ) as LinuxSeccomp['architectures'];
  const syscalls = (p.syscalls ?? [])
    .filter((s) => matches(s.includes) && !excluded(s.excludes))
    .map(({ names, action, errnoRet, args }) => ({
      names,
      action,
      ...(errnoRet !== undefined ? { errnoRet } : {}),
      ...(args?.length ? { args } : {}),
    }));
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}
