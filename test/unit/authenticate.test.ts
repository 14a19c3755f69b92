import { describe, expect, it } from 'vitest';
import { createAuthenticator, type Credentials } from '../../shared/api/authenticate.ts';
import { signRecording } from '../../shared/auth/recording-url.ts';
import { ApiError } from '../../shared/errors.ts';
import { issueToolbarToken } from '../../shared/toolbar/token.ts';

const MAC = '68:69:2e:03:8b:3e';
const KEY = new Uint8Array(32).fill(7);
const NOW = Date.UTC(2026, 0, 1);

/** The one authenticator with a device that knows one key, recording what each limit counted. */
function setup() {
  const counted: string[] = [];
  const authenticate = createAuthenticator<{ mac: string }>({
    keys: {
      device: async (mac) => ({ mac }),
      linkKey: () => KEY,
      toolbarKey: () => KEY,
      async principal(authorization) {
        if (authorization === 'Bearer good') return { principal: { kind: 'tenant', tenant: 't', keyId: 'k' }, device: { mac: MAC } };
        throw new ApiError('UNAUTHORIZED', 'Authorization: not a valid key for this device');
      },
    },
    limitKey: (name) => {
      counted.push(`key ${name}`);
    },
    limitDevice: (mac) => counted.push(`device ${mac}`),
    now: () => NOW,
  });
  const run = (credentials: Credentials) => authenticate(MAC, credentials);
  return { run, counted };
}

describe('the one authenticator (shared/api/authenticate.ts)', () => {
  it('counts a key before checking it, and the device only once the caller is known', async () => {
    const { run, counted } = setup();
    await expect(run({ authorization: 'Bearer bad' })).rejects.toMatchObject({ status: 401 });
    expect(counted).toEqual(['key Bearer bad']);
    expect((await run({ authorization: 'Bearer good' })).principal).toEqual({ kind: 'tenant', tenant: 't', keyId: 'k' });
    await expect(run({ authorization: undefined })).rejects.toMatchObject({ status: 401 });
    expect(counted).toEqual(['key Bearer bad', 'key Bearer good', `device ${MAC}`, 'key no Authorization']);
  });

  it('a toolbar token is its extension on its device, counted as a key is', async () => {
    const { run, counted } = setup();
    const { token } = await issueToolbarToken(KEY, MAC, { extension: '801' }, NOW);
    expect((await run({ authorization: `Bearer ${token}` })).principal).toEqual({ kind: 'toolbar', ext: '801', supervisor: false });
    const other = await issueToolbarToken(KEY, '68:69:2e:03:8b:3f', { extension: '801' }, NOW);
    await expect(run({ authorization: `Bearer ${other.token}` })).rejects.toMatchObject({ status: 401 });
    expect(counted).toEqual([`key Bearer ${token}`, `device ${MAC}`, `key Bearer ${other.token}`]);
  });

  it('a signed link proves itself for its one file and is counted per device only', async () => {
    const { run, counted } = setup();
    const signed = await signRecording(KEY, MAC, '2026/01/call.wav', NOW, 60);
    const q = new URLSearchParams(signed.query);
    const link = { relPath: signed.relPath, exp: q.get('exp') ?? undefined, sig: q.get('sig')! };
    expect((await run({ authorization: undefined, link })).principal).toEqual({ kind: 'link' });
    await expect(run({ authorization: undefined, link: { ...link, relPath: '2026/01/other.wav' } })).rejects.toMatchObject({ status: 401 });
    expect(counted).toEqual([`device ${MAC}`, `device ${MAC}`]);
  });
});
