// The Node.js versions the SDK's build runs on. rolldown and componentize-js need
// them and fail on older ones with errors that do not say why; npm only warns
// about package.json's `engines`, so the build checks for itself.

/** package.json's `engines.node`. */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** Whether Node `version` (as `process.versions.node` gives it) is one the build runs on. */
export function supportedNode(version) {
  const [major, minor] = String(version)
    .split('.')
    .map((part) => Number.parseInt(part, 10));
  if (!Number.isInteger(major) || !Number.isInteger(minor)) {
    return false;
  }
  return (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22;
}
