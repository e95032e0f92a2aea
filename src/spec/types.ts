// The spec's types under runc/specs-go names. They are generated from
// schemas/ by hack/gen-spec.mjs; this file is the one place to import them from.
export type {
  Spec,
  Process,
  User,
  Box,
  POSIXRlimit,
  LinuxCapabilities,
  Root,
  Mount,
  Hooks,
  Hook,
  Linux,
  LinuxNamespace,
  LinuxNamespaceType,
  LinuxIDMapping,
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxResources,
  LinuxSeccomp,
  LinuxSyscall,
  LinuxSeccompArg,
  LinuxSeccompAction,
  LinuxSeccompOperator,
  LinuxSeccompFlag,
  Arch,
  LinuxTimeOffset,
  LinuxNetDevice,
  LinuxPersonality,
  LinuxMemoryPolicy,
  MemoryPolicyMode,
  MemoryPolicyFlag,
  Scheduler,
  LinuxIOPriority,
  CPUAffinity,
  Annotations,
} from './generated/config';
export type { State, ContainerState } from './generated/state';
export type { Features as FeaturesDocument } from './generated/features';

/** The hook lists of config.json, in the order the lifecycle runs them. */
export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
