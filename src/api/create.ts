// createContainer and loadContainer: the library's two ways to a Container.
import { dirname, isAbsolute } from 'node:path';
import { rootlessMode } from '../linux/rootless';
import type { Spec } from '../spec/types';
import { InvalidInputError } from '../errors';
import { bundleOfConfig } from '../spec/bundle';
import { ContainerFiles } from '../state/status';
import { createContainer as createInit } from '../runtime/create';
import { Container } from './container';
import { checkCount, checkId, checkOptionalPath, checkRoot } from './args';
import { resolveExecutable } from './executable';
import { acceptedConfig } from './validate';
import { loadSystemdDriver } from '../cgroups/systemd-link';

export interface CreateContainerOptions {
  id: string;
  /** The state root, e.g. /run/tsrun (runc's --root). Created if missing. */
  root: string;
  /** A bundle directory holding config.json; or give `config`. */
  bundle?: string;
  /**
   * The config as an object instead of the bundle's config.json. Its
   * root.path is taken relative to `bundle` if given, else it must be absolute.
   */
  config?: Spec;
  /** AF_UNIX socket that receives the pty master of a process.terminal container. */
  consoleSocket?: string;
  /** AF_UNIX socket that receives a pidfd of the init (runc's --pidfd-socket). */
  pidfdSocket?: string;
  pidFile?: string;
  /** Hand the caller's fds 3 … 3+N-1 to the container's process. */
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  systemdCgroup?: boolean;
  /** The tsrun executable the init runs from; default: the package's dist/tsrun. */
  executable?: string;
  /** Rootless rules (docs/rootless.md); default: as runc's auto, when not uid 0 or inside a user namespace. */
  rootless?: boolean;
}

/** The bundle directory an in-memory config is relative to. */
function bundleFor(config: Spec, bundle: string | undefined): string {
  if (bundle !== undefined) return bundle;
  const path = config.root?.path;
  if (typeof path !== 'string' || !isAbsolute(path))
    throw new InvalidInputError('bundle: required when config.root.path is not absolute');
  return dirname(path);
}

/** Sets the container up (runtime.md create) and leaves it created; start() runs its process. */
export async function createContainer(opts: CreateContainerOptions): Promise<Container> {
  if (typeof opts !== 'object' || opts === null)
    throw new InvalidInputError('createContainer: options must be an object');
  const id = checkId(opts.id);
  const root = checkRoot(opts.root);
  if ((opts.bundle === undefined) === (opts.config === undefined))
    throw new InvalidInputError('createContainer: give one of bundle and config');
  const executable = resolveExecutable(opts.executable);
  const bundle = checkOptionalPath('bundle', opts.bundle);
  let loaded;
  if (opts.config !== undefined) {
    const config = acceptedConfig(opts.config);
    loaded = bundleOfConfig(config, bundleFor(config, bundle));
  }
  if (opts.systemdCgroup) await loadSystemdDriver();
  const { container } = createInit({
    root,
    id,
    bundle: bundle ?? loaded!.bundle,
    loaded,
    pidFile: checkOptionalPath('pidFile', opts.pidFile),
    consoleSocket: checkOptionalPath('consoleSocket', opts.consoleSocket),
    pidfdSocket: checkOptionalPath('pidfdSocket', opts.pidfdSocket),
    noPivot: !!opts.noPivot,
    noNewKeyring: !!opts.noNewKeyring,
    preserveFds: checkCount('preserveFds', opts.preserveFds),
    detach: true,
    systemdCgroup: !!opts.systemdCgroup,
    rootless: opts.rootless ?? rootlessMode(undefined),
    executable,
  });
  container.unlock();
  return new Container(root, id, executable);
}

/** An existing container; NoSuchContainerError if there is none of that id. */
export async function loadContainer(root: string, id: string, opts: { executable?: string } = {}): Promise<Container> {
  const r = checkRoot(root);
  ContainerFiles.find(r, checkId(id));
  return new Container(r, id, resolveExecutable(opts.executable));
}
