// Native code embedded in the executable, loaded from memory: koffi's addon
// and tsrun's helper are written to a memfd and dlopen'ed through
// /proc/self/fd/N. Bun's own way (extract to $TMPDIR/.bun-*.node, reuse that
// file on every later run without checking it) would let anyone who can
// replace the file run code as root, and fails on a read-only or noexec /tmp.
//
// memfd_create is the one call made before koffi exists, so it goes through
// bun:ffi (only ever loaded by the executable, never under node).
import { readFileSync, writeSync, closeSync } from 'node:fs';
import { dlopen } from 'bun:ffi';
import { phase } from '../log/phase';

const MFD_CLOEXEC = 1;
/** The memfds of the libraries loaded so far; undefined once released. */
let kept: number[] | undefined = [];
let memfdCreate: ((name: Buffer, flags: number) => number) | undefined;

function memfd(name: string): number {
  memfdCreate ??= dlopen('libc.so.6', { memfd_create: { args: ['ptr', 'u32'], returns: 'i32' } }).symbols
    .memfd_create as never;
  const fd = memfdCreate!(Buffer.from(`${name}\0`), MFD_CLOEXEC);
  if (fd < 0) throw new Error(`tsrun: memfd_create(${name}) failed: cannot load the embedded native code`);
  return fd;
}

/**
 * Writes the embedded file `embedded` to a memfd and calls `load` with its
 * /proc/self/fd path. The fd stays open (close-on-exec): glibc's dlopen
 * takes a path it has loaded before for the same library, so a reused fd
 * number would hand back the wrong one (see releaseMemoryFds).
 */
export function loadFromMemory<T>(name: string, embedded: string, load: (path: string) => T): T {
  if (!kept) throw new Error(`tsrun: cannot load ${name}: the embedded libraries' fds were released`);
  phase(name, 'copy');
  const bytes = readFileSync(embedded);
  phase(name, 'read');
  const fd = memfd(name); // the first one loads bun:ffi's memfd_create binding
  phase(name, 'memfd');
  try {
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
    phase(name, 'dlopen');
    const loaded = load(`/proc/self/fd/${fd}`);
    phase(name, 'loaded');
    kept.push(fd);
    return loaded;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Closes the memfds once a process has loaded all it will load (the init,
 * before it waits in `created`): the mappings stay, and no later load can
 * be handed a stale library for a reused fd number, because none may happen.
 */
export function releaseMemoryFds(): void {
  for (const fd of kept ?? []) closeSync(fd);
  kept = undefined;
}

/** Loads an embedded Node-API addon from memory; returns its exports. */
export function loadAddon(name: string, embedded: string): unknown {
  return loadFromMemory(name, embedded, (path) => {
    const mod = { exports: {} };
    process.dlopen(mod, path);
    return mod.exports;
  });
}
