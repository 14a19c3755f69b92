import { describe, expect, it } from 'vitest';
import { assessAsteriskVersion, parseAsteriskVersion, type AsteriskSupport } from '../../shared/asterisk-version.ts';

describe('parseAsteriskVersion', () => {
  it('reads major.minor from every form Asterisk reports', () => {
    const table: [string, { major: number; minor: number } | undefined][] = [
      ['20.20.1', { major: 20, minor: 20 }],
      ['13.7.2', { major: 13, minor: 7 }],
      ['certified/18.9-cert7', { major: 18, minor: 9 }],
      ['certified-13.8-cert4', { major: 13, minor: 8 }],
      ['11.25.3', { major: 11, minor: 25 }],
      ['22.0.0-rc1', { major: 22, minor: 0 }],
      ['GIT-16-a1b2c3d', { major: 16, minor: 0 }],
      ['SVN-branch-13-r4321', { major: 13, minor: 0 }],
      ['SVN-branch-1.8-r380433', { major: 1, minor: 8 }],
      ['GIT-master-abc123', undefined],
      ['SVN-trunk-r12345', undefined],
      ['', undefined],
      ['Asterisk', undefined],
    ];
    for (const [reported, parsed] of table) expect(parseAsteriskVersion(reported), reported).toEqual(parsed);
  });
});

describe('assessAsteriskVersion', () => {
  it('grades each version and says what does not work', () => {
    const table: [string, AsteriskSupport, RegExp][] = [
      ['11.25.3', 'unsupported', /no DialBegin and no Linkedid.*call events and call records will not work/],
      ['SVN-branch-1.8-r380433', 'unsupported', /not supported/],
      ['12.8.2', 'limited', /no ExtensionStateList: extension-hints-status, click-to-dial's busy check and trunk\/direction inference will not work/],
      ['13.0.0', 'limited', /no PausedReason/],
      ['13.7.2', 'limited', /relies on its own memory, so a manual pause made during a wrap-up may be undone/],
      ['certified-13.8-cert4', 'supported', /supported/],
      ['13.8.0', 'supported', /supported/],
      ['certified/18.9-cert7', 'supported', /supported/],
      ['20.20.1', 'supported', /supported/],
      ['22.0.0-rc1', 'supported', /supported/],
      ['23.0.0', 'untested', /newer than the agent was tested with/],
      ['GIT-master-abc123', 'unknown', /cannot be read/],
      ['', 'unknown', /cannot be read/],
    ];
    for (const [reported, support, detail] of table) {
      const a = assessAsteriskVersion(reported);
      expect([a.version, a.support], reported).toEqual([reported, support]);
      expect(a.detail, reported).toMatch(detail);
    }
  });

  it('tells an operator what to do about an old Asterisk', () => {
    for (const v of ['11.25.3', '12.8.2', '13.7.2']) expect(assessAsteriskVersion(v).detail).toMatch(/upgrade to Asterisk 13\.8 or later$/);
  });
});
