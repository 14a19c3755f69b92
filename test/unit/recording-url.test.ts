import { expect, it } from 'vitest';
import { signRecording, verifyRecordingSignature } from '../../shared/auth/recording-url.ts';
import { ApiError } from '../../shared/errors.ts';

const key = new Uint8Array(32).fill(7);
const mac = '68:69:2e:03:8b:3e';
const params = (query: string) => Object.fromEntries(new URLSearchParams(query)) as { exp: string; sig: string };

it('a recording link is good until it expires, for its own file, device and key only', async () => {
  const now = Date.UTC(2026, 10, 26, 8, 0, 0);
  const s = await signRecording(key, mac, '2026/11/26/call 1.wav', now, 60);
  expect(s.relPath).toBe('2026/11/26/call 1.wav');
  const { exp, sig } = params(s.query);
  await verifyRecordingSignature(key, mac, s.relPath, exp, sig, now + 59_000);
  const refused = (p: Promise<void>) => expect(p).rejects.toBeInstanceOf(ApiError);
  await refused(verifyRecordingSignature(key, mac, s.relPath, exp, sig, now + 60_000));
  await refused(verifyRecordingSignature(key, mac, '2026/11/26/call 2.wav', exp, sig, now));
  await refused(verifyRecordingSignature(key, '68:69:2e:03:8b:3f', s.relPath, exp, sig, now));
  await refused(verifyRecordingSignature(new Uint8Array(32), mac, s.relPath, exp, sig, now));
  await refused(verifyRecordingSignature(key, mac, s.relPath, String(Number(exp) + 3600), sig, now));
  await refused(verifyRecordingSignature(key, mac, s.relPath, exp, undefined, now));
});

it('refuses to sign a path that could leave the recordings folder', async () => {
  for (const p of ['../etc/passwd', '/etc/passwd', 'a/../../b.wav', 'a\\b.wav', 'a\u0000.wav']) {
    await expect(signRecording(key, mac, p, Date.now()), p).rejects.toBeInstanceOf(ApiError);
  }
});
