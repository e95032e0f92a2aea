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
// `var`, not `let`: only a var declaration makes it a property of globalThis (src/init/main.ts reads globalThis.Bun).
// eslint-disable-next-line no-var
declare var Bun: { gc(force: boolean): void } | undefined;
