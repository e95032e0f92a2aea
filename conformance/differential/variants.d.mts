// Types of variants.mjs for the TypeScript unit tests (test/differential/).
export interface Variant {
  name: string;
  section: string;
  expect: 'accept' | 'refuse';
  edit: (config: object, ctx: object) => void | Promise<void>;
  exec?: object;
  terminal?: boolean;
  taskset?: string;
}
export const variants: Variant[];
