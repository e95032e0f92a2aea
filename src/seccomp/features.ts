// The `linux.seccomp` object of `tsrun features` (runtime-spec
// features-linux.md): what the compiler accepts, and which filter flags
// this kernel takes.
import { ACTIONS, FLAGS, OPS } from './profile';
import { ARCHES } from './arch';
import { kernelSupportsFlag } from './load';
import type { Arch, LinuxSeccompAction, LinuxSeccompFlag, LinuxSeccompOperator } from '../spec/types';

export interface SeccompFeatures {
  enabled: boolean;
  actions: LinuxSeccompAction[];
  operators: LinuxSeccompOperator[];
  /** Only the architectures a filter is compiled for; the others the spec names are accepted but left out. */
  archs: Arch[];
  knownFlags: LinuxSeccompFlag[];
  supportedFlags: LinuxSeccompFlag[];
}

export function seccompFeatures(flagSupported: (flag: number) => boolean = kernelSupportsFlag): SeccompFeatures {
  // The tables are keyed by the spec's names: src/cli/features.test.ts validates them against the features schema.
  const knownFlags = Object.keys(FLAGS).sort() as LinuxSeccompFlag[];
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort() as LinuxSeccompAction[],
    operators: [...OPS].map((op) => `SCMP_CMP_${op}`).sort() as LinuxSeccompOperator[],
    archs: Object.values(ARCHES)
      .map((a) => a.scmp as Arch)
      .sort(),
    knownFlags,
    supportedFlags: knownFlags.filter((name) => flagSupported(FLAGS[name])),
  };
}
