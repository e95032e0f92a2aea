// Turns a mount's option strings into what the kernel takes: mount(2) flags,
// propagation changes, recursive mount_setattr attributes, id mapping, and
// the rest as the filesystem's data string (as runc does with unknown options).
import { MS, MOUNT_ATTR } from '../sys/mount';

export interface ParsedMountOptions {
  /** mount(2) flags (MS_RDONLY, MS_BIND, MS_REC …). */
  flags: number;
  /** Each propagation change, in order: MS_SHARED|MS_REC … */
  propagation: number[];
  /** Recursive attributes for mount_setattr(AT_RECURSIVE); zero when none. */
  recAttrSet: number;
  recAttrClr: number;
  /** Copy the destination's former content into a fresh tmpfs. */
  tmpcopyup: boolean;
  /** An id-mapped mount (idmap-mounts.ts): the top mount only, or ridmap, every mount of the tree. */
  idmap: '' | 'idmap' | 'ridmap';
  /** Options the kernel does not know as flags, comma-joined. */
  data: string;
}

// option → [clear?, flag]
const flagOptions: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  nosuid: [false, MS.NOSUID],
  suid: [true, MS.NOSUID],
  nodev: [false, MS.NODEV],
  dev: [true, MS.NODEV],
  noexec: [false, MS.NOEXEC],
  exec: [true, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS],
  async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK],
  nomand: [true, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  atime: [true, MS.NOATIME],
  nodiratime: [false, MS.NODIRATIME],
  diratime: [true, MS.NODIRATIME],
  relatime: [false, MS.RELATIME],
  norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME],
  nostrictatime: [true, MS.STRICTATIME],
  lazytime: [false, MS.LAZYTIME],
  nolazytime: [true, MS.LAZYTIME],
  iversion: [false, MS.I_VERSION],
  noiversion: [true, MS.I_VERSION],
  silent: [false, MS.SILENT],
  loud: [true, MS.SILENT],
  nosymfollow: [false, MS.NOSYMFOLLOW],
  symfollow: [true, MS.NOSYMFOLLOW],
  bind: [false, MS.BIND],
  rbind: [false, MS.BIND | MS.REC],
};

export const propagationOptions: Record<string, number> = {
  private: MS.PRIVATE,
  shared: MS.SHARED,
  slave: MS.SLAVE,
  unbindable: MS.UNBINDABLE,
  rprivate: MS.PRIVATE | MS.REC,
  rshared: MS.SHARED | MS.REC,
  rslave: MS.SLAVE | MS.REC,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// Recursive attributes: [clear?, attribute]. The access-time ones are an
// enum in the kernel, not bits, so they are handled apart (see below).
const recAttrOptions: Record<string, [boolean, number]> = {
  rro: [false, MOUNT_ATTR.RDONLY],
  rrw: [true, MOUNT_ATTR.RDONLY],
  rnosuid: [false, MOUNT_ATTR.NOSUID],
  rsuid: [true, MOUNT_ATTR.NOSUID],
  rnodev: [false, MOUNT_ATTR.NODEV],
  rdev: [true, MOUNT_ATTR.NODEV],
  rnoexec: [false, MOUNT_ATTR.NOEXEC],
  rexec: [true, MOUNT_ATTR.NOEXEC],
  rnodiratime: [false, MOUNT_ATTR.NODIRATIME],
  rdiratime: [true, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
};

// mount_setattr only changes the access-time mode when attr_clr holds the whole
// MOUNT_ATTR__ATIME mask and attr_set names one mode; "not noatime" and
// friends therefore select the kernel default (relatime), "norelatime" strict.
const recAtimeOptions: Record<string, number> = {
  rnoatime: MOUNT_ATTR.NOATIME,
  ratime: MOUNT_ATTR.RELATIME,
  rrelatime: MOUNT_ATTR.RELATIME,
  rnorelatime: MOUNT_ATTR.STRICTATIME,
  rstrictatime: MOUNT_ATTR.STRICTATIME,
  rnostrictatime: MOUNT_ATTR.RELATIME,
};

export function parseMountOptions(options: readonly string[] | undefined): ParsedMountOptions {
  const out: ParsedMountOptions = {
    flags: 0,
    propagation: [],
    recAttrSet: 0,
    recAttrClr: 0,
    tmpcopyup: false,
    idmap: '',
    data: '',
  };
  const data: string[] = [];
  for (const option of options ?? []) {
    const flag = flagOptions[option];
    if (flag) {
      const [clear, bits] = flag;
      out.flags = clear ? out.flags & ~bits : out.flags | bits;
      continue;
    }
    const prop = propagationOptions[option];
    if (prop !== undefined) {
      out.propagation.push(prop);
      continue;
    }
    const rec = recAttrOptions[option];
    if (rec) {
      const [clear, bits] = rec;
      if (clear) {
        out.recAttrClr |= bits;
        out.recAttrSet &= ~bits;
      } else {
        out.recAttrSet |= bits;
        out.recAttrClr &= ~bits;
      }
      continue;
    }
    const atime = recAtimeOptions[option];
    if (atime !== undefined) {
      out.recAttrSet = (out.recAttrSet & ~MOUNT_ATTR.ATIME_MASK) | atime;
      out.recAttrClr |= MOUNT_ATTR.ATIME_MASK;
      continue;
    }
    if (option === 'tmpcopyup') {
      out.tmpcopyup = true;
      continue;
    }
    if (option === 'idmap' || option === 'ridmap') {
      // Either asks for a mapping; ridmap also asks for it on every submount.
      if (out.idmap !== 'ridmap') out.idmap = option;
      continue;
    }
    data.push(option);
  }
  out.data = data.join(',');
  return out;
}

/** Every option parseMountOptions knows by name (what `features` claims). */
export function knownMountOptions(): string[] {
  const tables = [flagOptions, propagationOptions, recAttrOptions, recAtimeOptions];
  return [...tables.flatMap((t) => Object.keys(t)), 'tmpcopyup', 'idmap', 'ridmap'].sort();
}

/** rootfsPropagation ("rslave", "shared" …) → mount flags; undefined when unknown. */
export function propagationFlag(name: string): number | undefined {
  return propagationOptions[name];
}
