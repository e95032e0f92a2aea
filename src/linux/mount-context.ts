// What mounting one config.json entry works with, shared by the general
// mount code (mounts.ts) and the cgroup-filesystem special case
// (cgroup-mount.ts) without either importing the other.
import type { ParsedMountOptions } from './mount-options';

export interface MountContext {
  /** O_PATH fd on the (bind-mounted) rootfs. */
  rootFd: number;
  /** Absolute host path of the rootfs, symlinks resolved. */
  rootfs: string;
  /** Relative bind sources are taken relative to the bundle (runc). */
  bundle: string;
  userns: boolean;
  cgroupns: boolean;
}

/** A mount whose options and target are already decided. */
export interface ResolvedMount {
  source: string;
  destination: string; // clean container path
  type: string;
  opts: ParsedMountOptions;
  /**
   * A bind source opened by the caller (bind-sources.ts): mounted through it
   * instead of its path; for an id-mapped mount, its detached copy, moved into place.
   */
  sourceFd?: number;
}
