import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookSigner } from '../../shared/delivery/signature.ts';
import { createNodeSigner } from '../../edge/node/hmac-signer.ts';

describe('the Node edge webhook signer', () => {
  it('signs exactly as WebCrypto does, and the official library verifies it', async () => {
    const secret = 'whsec_' + Buffer.from('a webhook secret of 24 b').toString('base64');
    const body = JSON.stringify({ event: 'hangup', name: '张三', n: 1 });
    const id = 'evt_0200000000be01_e1_7';
    const ts = 1762591289;
    const ours = await (await createNodeSigner(secret)).sign(id, ts, body);
    expect(ours).toBe(await (await WebhookSigner.create(secret)).sign(id, ts, body));
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': ours };
    expect(() => new Webhook(secret).verify(body, headers)).toThrow(/timestamp/i);
    // Verified once the timestamp is fresh: sign again at now.
    const now = Math.floor(Date.now() / 1000);
    const fresh = await (await createNodeSigner(secret)).sign(id, now, body);
    expect(new Webhook(secret).verify(body, { ...headers, 'webhook-timestamp': String(now), 'webhook-signature': fresh })).toEqual(JSON.parse(body));
  });

  it('refuses a secret that cannot sign, as configuration, not per event', async () => {
    await expect(createNodeSigner('whsec_')).rejects.toThrow(/no key bytes/);
  });
});
