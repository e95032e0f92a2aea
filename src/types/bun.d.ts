// The little of Bun's API tsrun uses, typed here rather than pulling in
// bun-types (whose globals clash with @types/node's).
declare module 'bun:ffi' {
  interface Signature {
    args: string[];
    returns: string;
  }
  export function dlopen<T extends Record<string, Signature>>(
    path: string,
    symbols: T,
  ): { symbols: { [K in keyof T]: (...args: unknown[]) => number } };
}

/** Bun's global object; absent under node. */
declare var Bun: { gc(force: boolean): void } | undefined;
