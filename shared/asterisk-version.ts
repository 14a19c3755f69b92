/**
 * What the agent can do on the Asterisk a box runs, from the version CoreSettings reports
 * (`AsteriskVersion`). Supported: 13.8 to 22. Pure, so the agent (--check, its login log) and the edge
 * (GET /devices/{mac}/status, from the version in the tunnel's hello) say the same thing.
 */

export interface AsteriskVersion {
  major: number;
  minor: number;
}

/**
 * - supported: 13.8 to 22, everything works
 * - limited: works, with the parts named in `detail` missing
 * - unsupported: events and call records do not work
 * - untested: newer than 22
 * - unknown: the version cannot be read (a development build, or an unfamiliar format)
 */
export type AsteriskSupport = 'supported' | 'limited' | 'unsupported' | 'untested' | 'unknown';

export interface AsteriskAssessment {
  /** As Asterisk reported it. */
  version: string;
  support: AsteriskSupport;
  /** One sentence a person can act on. */
  detail: string;
}

const OLDEST_SUPPORTED = { major: 13, minor: 8 } as const;
const NEWEST_TESTED_MAJOR = 22;

/**
 * `20.20.1`, `22.0.0-rc1`, `certified/18.9-cert7`, `certified-13.8-cert4`, `GIT-16-a1b2c3` and
 * `SVN-branch-13-r4321` give their major.minor; `GIT-master-...`, `SVN-trunk-...` and anything else
 * give undefined: a development build's features cannot be told from its name.
 */
export function parseAsteriskVersion(reported: string): AsteriskVersion | undefined {
  const v = reported.trim();
  const body = /^(GIT|SVN)-/i.test(v) ? (/^(?:GIT|SVN)-(?:branch-)?(\d+(?:\.\d+)*)-/i.exec(v)?.[1] ?? '') : v.replace(/^certified[/-]/i, '');
  const m = /^(\d+)(?:\.(\d+))?/.exec(body);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0) };
}

export function assessAsteriskVersion(reported: string): AsteriskAssessment {
  const v = parseAsteriskVersion(reported);
  const at = (support: AsteriskSupport, detail: string): AsteriskAssessment => ({ version: reported, support, detail });
  if (!v) {
    return at('unknown', `Asterisk ${reported || '(no version)'}: the version cannot be read, so what works is not known; the agent supports Asterisk 13.8 to ${NEWEST_TESTED_MAJOR}`);
  }
  const name = `Asterisk ${reported}`;
  if (v.major < 12) {
    return at('unsupported', `${name} is not supported: it sends no DialBegin and no Linkedid, so call events and call records will not work; upgrade to Asterisk 13.8 or later`);
  }
  if (v.major === 12) {
    return at('limited', `${name} has no ExtensionStateList: extension-hints-status, click-to-dial's busy check and trunk/direction inference will not work; upgrade to Asterisk 13.8 or later`);
  }
  if (v.major === OLDEST_SUPPORTED.major && v.minor < OLDEST_SUPPORTED.minor) {
    return at(
      'limited',
      `${name} sends no PausedReason: wrap-up cannot tell its own pause from a supervisor's and relies on its own memory, so a manual pause made during a wrap-up may be undone when the wrap-up ends; upgrade to Asterisk 13.8 or later`,
    );
  }
  if (v.major > NEWEST_TESTED_MAJOR) {
    return at('untested', `${name} is newer than the agent was tested with (13.8 to ${NEWEST_TESTED_MAJOR}); it is expected to work, report anything that does not`);
  }
  return at('supported', `${name} is supported`);
}
