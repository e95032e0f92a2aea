// A blocking sleep of the calling thread, as nanosleep(2) would: the CLI and
// the init are synchronous between steps and have no event loop to wait in.
// Needs no FFI, so the read-only commands can wait without loading koffi.

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
