/** Pure checks for paths that must stay inside a base directory (the agent's work dir). */

/**
 * Normalizes a relative POSIX path and returns its segments, or null when it is absolute,
 * contains a NUL byte, or climbs above its base with `..`.
 */
export function containedSegments(relative: string): string[] | null {
  if (relative.includes('\0') || relative.startsWith('/') || relative.startsWith('\\')) return null;
  if (/^[A-Za-z]:/.test(relative)) return null;
  const segments: string[] = [];
  for (const part of relative.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) return null;
      segments.pop();
    } else {
      segments.push(part);
    }
  }
  return segments;
}

/** True when `relative` names a place inside its base directory. */
export function isContainedPath(relative: string): boolean {
  return containedSegments(relative) !== null;
}
