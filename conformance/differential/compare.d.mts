// Types of compare.mjs for the TypeScript unit tests (test/differential/).
export interface Difference {
  field: string;
  runtime: string;
  reference: string;
}
export interface Explanation {
  variant: string;
  field: string;
  why: string;
  ref: string;
  variantRe: RegExp;
  fieldRe: RegExp;
  used: number;
}
export function differences(runtime: Record<string, string>, reference: Record<string, string>): Difference[];
export function glob(pattern: string): RegExp;
export function loadExplanations(file: string): Explanation[];
export function explain(explanations: Explanation[], variant: string, field: string): Explanation | undefined;
