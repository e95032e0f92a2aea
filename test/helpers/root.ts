// The one root check of the tests: most of them make containers, cgroups,
// namespaces or mounts, which only root can.
export const isRoot = process.getuid?.() === 0;
export const ROOT_REASON = 'needs root: creates real containers';
