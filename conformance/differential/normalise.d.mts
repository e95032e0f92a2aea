// Types of normalise.mjs for the TypeScript unit tests (test/differential/).
export interface Normalised {
  fields: Record<string, string>;
  refusal?: string;
  probeError?: string;
  setupError?: string;
}
export function normalise(record: object, suite: { base: string; hostNs: Record<string, string> }): Normalised;
export function mounts(mountinfo: string): Record<string, string>;
