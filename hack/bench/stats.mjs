// Shared by hack/bench.mjs and hack/bench/phases.mjs.
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Wall-clock epoch ms with µs: comparable with the marks tsrun writes (src/log/phase.ts). */
export const epochMs = () => performance.timeOrigin + performance.now();
