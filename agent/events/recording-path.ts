/**
 * A recording path as the documents give it: relative to the recordings folder, so
 * `GET /coocenter-api/monitor/{path}` fetches it. MixMonitor reports absolute paths
 * (`MIXMONITOR_FILENAME=/var/spool/asterisk/monitor/x.wav`) or, for a relative `File`, a path already
 * relative to that folder. A path outside the folder cannot be fetched, so it gives "".
 */
export function recordingPath(path: string, monitorDir: string): string {
  if (path === '') return '';
  if (!path.startsWith('/')) return path.includes('..') ? '' : path;
  const dir = monitorDir.endsWith('/') ? monitorDir : monitorDir + '/';
  if (!path.startsWith(dir)) return '';
  const rel = path.slice(dir.length);
  return rel.split('/').includes('..') ? '' : rel;
}
