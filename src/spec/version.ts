// Which runtime-spec versions tsrun accepts in config.json, and the one it
// implements. Minor versions only add fields, so 1.0.0 through 1.3.x are
// understood. Of 1.3's additions, linux.netDevices and linux.memoryPolicy are
// implemented and a failing poststart hook fails `start` (1.3's text); Intel
// RDT, with 1.3's intelRdt.schemata and enableMonitoring, is refused by name
// (src/spec/unimplemented.ts) rather than ignored; vm and freebsd are other
// platforms' sections, ignored as runc ignores them. Pre-releases (docker and
// runc write "1.0.2-dev") are accepted too. Clients and the runtime-tools
// suite write 1.3.0 today.
export const OCI_VERSION_MIN = '1.0.0';
export const OCI_VERSION_MAX = '1.3.0';
/**
 * The version tsrun implements: written into config.json (tsrun spec) and state.json, and printed by
 * `tsrun --version` ("spec: …"), as runc 1.4 does with 1.3.0.
 */
export const OCI_VERSION = OCI_VERSION_MAX;

const SUPPORTED_MAJOR = 1;
const SUPPORTED_MAX_MINOR = 3;

/** Undefined when `version` is supported, otherwise why not. */
export function unsupportedVersion(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return `version ${JSON.stringify(version)} is not a semantic version`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === SUPPORTED_MAJOR && minor <= SUPPORTED_MAX_MINOR) return undefined;
  return (
    `version ${JSON.stringify(version)} is not supported ` +
    `(tsrun supports ${OCI_VERSION_MIN} through ${SUPPORTED_MAJOR}.${SUPPORTED_MAX_MINOR}.x)`
  );
}
