// tsrun as a library: `import { createContainer } from 'tsrun'`. The same
// runtime the CLI drives (the CLI is a skin over these modules), running in
// the caller's process; each container's init runs from the tsrun executable
// (see executable.ts). Every call that blocks returns a Promise; failures
// are the error classes below.
import type { Spec } from '../spec/types';
import { defaultSpec as runcDefaultSpec } from '../spec/default';
import { features as runtimeFeatures, type Features } from '../spec/features';
import { listContainers as list, type ListedState } from '../runtime/list';
import { checkRoot } from './args';

export { createContainer, loadContainer, type CreateContainerOptions } from './create';
export { Container, type ExecOptions, type EventsOptions, type ContainerEvent } from './container';
export { validateConfig, InvalidConfigError, type Diagnostic } from './validate';
export { compileSeccomp, simulateSeccomp, type CompiledSeccomp, type ArchName } from './seccomp';
export { defaultExecutable } from './executable';
export { TsrunError, InvalidInputError, ContainerStateError, NoSuchContainerError, SysError } from '../errors';
export { setLogTarget, setLogSink, type LogTarget, type LogSink, type Level, type Fields } from '../log';
export type * from '../spec/types';
export type { Features } from '../spec/features';
export type { ListedState } from '../runtime/list';

/** The OCI state of every container under root (runc list), sorted by id; [] if root does not exist. */
export async function listContainers(root: string): Promise<ListedState[]> {
  return list(checkRoot(root));
}

/** What this runtime implements (runtime-spec features.md), as `tsrun features`. */
export function features(): Features {
  return runtimeFeatures();
}

/** runc's default config.json (`tsrun spec`); rootless maps the caller's ids to root in a user namespace. */
export function defaultSpec(opts: { rootless?: boolean } = {}): Spec {
  return runcDefaultSpec(!!opts.rootless);
}
