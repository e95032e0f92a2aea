// The `linux.seccomp` object of `tsrun features` (runtime-spec
// features-linux.md): what the compiler accepts, and which filter flags
// this kernel takes.
import { ACTIONS, FLAGS, OPS } from './profile';
import { ARCHES } from './arch';
import { kernelSupportsFlag } from './load';

export interface SeccompFeatures {
  enabled: boolean;
  actions: string[];
  operators: string[];
  /** Only the architectures a filter is compiled for; the others the spec names are accepted but left out. */
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
}

export function seccompFeatures(flagSupported: (flag: number) => boolean = kernelSupportsFlag): SeccompFeatures {
  const knownFlags = Object.keys(FLAGS).sort();
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort(),
    operators: [...OPS].map((op) => `SCMP_CMP_${op}`).sort(),
    archs: Object.values(ARCHES)
      .map((a) => a.scmp)
      .sort(),
    knownFlags,
    supportedFlags: knownFlags.filter((name) => flagSupported(FLAGS[name])),
  };
}
