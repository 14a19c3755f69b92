import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookSigner, toWhsec, webhookId, webhookSecretBytes } from '../../shared/delivery/signature.ts';

describe('webhook signature', () => {
  it('matches the Standard Webhooks reference vector', async () => {
    const signer = await WebhookSigner.create('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(await signer.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it.each([
    ['an edge whsec_ secret', 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'), (s: string) => s],
    // The receiver of a LAN box configures whsec_ + base64 of the WEBKEY's UTF-8 bytes.
    ['a raw WEBKEY with ; # and non-ASCII', 'ab#cd;1 clé', (s: string) => 'whsec_' + Buffer.from(s, 'utf8').toString('base64')],
  ])('verifies with the official library for %s', async (_name, secret, receiverSecret) => {
    const body = JSON.stringify({ event: 'hangup', mac: '68:69:2e:03:8b:3e', uniqueid: '1718000000.12' });
    const id = webhookId('68:69:2e:03:8b:3e', 'lx1abc', 42);
    const ts = Math.floor(Date.now() / 1000);
    const signature = await (await WebhookSigner.create(secret)).sign(id, ts, body);
    const wh = new Webhook(receiverSecret(secret));
    expect(wh.verify(body, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature })).toEqual(JSON.parse(body));
    expect(() => wh.verify(body + ' ', { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature })).toThrow();
    expect(toWhsec(secret)).toBe(receiverSecret(secret));
  });

  it('derives a stable webhook-id from mac, epoch and seq', () => {
    expect(webhookId('68:69:2E:03:8B:3E', 'lx1abc', 7)).toBe('evt_68692e038b3e_lx1abc_7');
  });

  it('refuses secrets without key bytes', () => {
    expect(() => webhookSecretBytes('')).toThrow(/empty/);
    expect(() => webhookSecretBytes('whsec_')).toThrow(/no key bytes/);
    expect(() => webhookSecretBytes('whsec_***')).toThrow(/not base64/);
  });
});
