import { describe, expect, it } from 'vitest';
import { detectDriver, DriverDetectionError } from '../../agent/ami/driver.ts';
import { AmiError } from '../../agent/ami/errors.ts';
import { AmiMessage } from '../../agent/ami/message.ts';
import type { AmiRunner } from '../../agent/ami/types.ts';
import { AmiDevice } from '../../agent/ami-device.ts';
import { ApiError } from '../../shared/errors.ts';
import { unknownActionRecording } from '../support/op-context.ts';
import { failingRunner, recordingsOf, ReplayRunner } from '../support/replay-runner.ts';

const noRecordings = () => Promise.reject(new ApiError('NOT_FOUND', 'no recordings here'));

function device(ami: AmiRunner, now = () => 0) {
  return new AmiDevice({ ami, driver: 'sip', context: 'internal', openRecording: noRecordings, now });
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('AmiDevice', () => {
  it('runs an operation through the registry', async () => {
    const ami = ReplayRunner.of('chan_sip', ['05_coreshowchannels_active.txt']);
    const body = (await device(ami).run('current-calls', {})) as { data: unknown[] };
    expect(body.data).toHaveLength(2);
  });

  it('answers 502 "not connected" while AMI is down or dropped mid-action', async () => {
    for (const code of ['AMI_NOT_CONNECTED', 'AMI_DISCONNECTED'] as const) {
      const err = await apiError(device(failingRunner(code)).run('queue-info', {}));
      expect(err.status).toBe(502);
      expect(err.code).toBe('PBX_UNAVAILABLE');
      expect(err.message).toMatch(/^Asterisk is not connected/);
    }
  });

  it('answers 504 when Asterisk does not answer in time', async () => {
    const err = await apiError(device(failingRunner('AMI_TIMEOUT')).run('hangup', { extension: '801' }));
    expect(err.status).toBe(504);
  });

  it("answers 502 with Asterisk's message for a refusal the op does not handle", async () => {
    // As Asterisk answers an AMI user without the write permission (18_unauthenticated_action).
    const denied = AmiMessage.from({ Response: 'Error', Message: 'Permission denied' });
    const ami: AmiRunner = { action: () => Promise.reject(new AmiError('AMI_RESPONSE', 'Permission denied', denied)) };
    const err = await apiError(device(ami).run('blacklist-create', { number: '123' }));
    expect(err.status).toBe(502);
    expect(err.code).toBe('PBX_ERROR');
    expect(err.message).toContain('Permission denied');
  });

  it('keeps op errors (409) as they are', async () => {
    const ami = ReplayRunner.of('chan_sip', ['04_coreshowchannels_empty.txt']);
    expect((await apiError(device(ami).run('hangup', { extension: '801' }))).status).toBe(409);
  });

  it('answers a repeat with the same Idempotency-Key from the first answer, without acting twice', async () => {
    let now = 0;
    const ami = ReplayRunner.of('chan_sip', ['07_extensionstatelist.txt', '32_click_to_call_mixmonitor.txt'], {
      keys: { Originate: ['Channel', 'Context', 'Exten'] },
    });
    const dev = device(ami, () => now);
    const params = { src: '805', dst: '802' };
    const [a, b] = await Promise.all([
      dev.run('click-number', params, { idempotencyKey: 'k1' }),
      dev.run('click-number', params, { idempotencyKey: 'k1' }),
    ]);
    expect(b).toEqual(a);
    expect(ami.sentOf('Originate')).toHaveLength(1);
    now = 10 * 60_000 + 1;
    await dev.run('click-number', params, { idempotencyKey: 'k1' });
    await dev.run('click-number', params, { idempotencyKey: 'k2' });
    expect(ami.sentOf('Originate')).toHaveLength(3);
  });

  it('passes the caller signal to every AMI action', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const ami: AmiRunner = {
      action: (_a, o) => {
        seen.push(o?.signal);
        return Promise.reject(new AmiError('AMI_ABORTED', 'aborted'));
      },
    };
    const signal = new AbortController().signal;
    await apiError(device(ami).run('queue-info', {}, { signal }));
    expect(seen).toEqual([signal]);
  });
});

describe('detectDriver', () => {
  const sipOnly = () =>
    new ReplayRunner([...recordingsOf('chan_sip', '06_sippeers_sipshowpeer.txt'), unknownActionRecording({ Action: 'PJSIPShowEndpoints' })]);
  const pjsipOnly = () =>
    new ReplayRunner([...recordingsOf('pjsip', '06_endpoints_contacts.txt'), unknownActionRecording({ Action: 'SIPpeers' })]);

  it('finds chan_sip and PJSIP boxes by which list action Asterisk knows', async () => {
    expect(await detectDriver(sipOnly())).toEqual({ driver: 'sip', loaded: ['sip'] });
    expect(await detectDriver(pjsipOnly())).toEqual({ driver: 'pjsip', loaded: ['pjsip'] });
  });

  it('on a box with both, says both are loaded and makes the driver that has phones the default', async () => {
    const emptyPjsip = recordingsOf('pjsip', '06_endpoints_contacts.txt')
      .filter((r) => r.action.Action === 'PJSIPShowEndpoints')
      .map((r) => ({ ...r, result: { ...r.result, events: [] } }));
    const both = new ReplayRunner([...recordingsOf('chan_sip', '06_sippeers_sipshowpeer.txt'), ...emptyPjsip]);
    expect(await detectDriver(both)).toEqual({ driver: 'sip', loaded: ['sip', 'pjsip'] });
  });

  it('uses the configured driver without asking', async () => {
    const ami = new ReplayRunner([]);
    expect(await detectDriver(ami, 'pjsip')).toEqual({ driver: 'pjsip', loaded: ['pjsip'] });
    expect(ami.sent).toEqual([]);
  });

  it('says what to do when neither driver is loaded', async () => {
    const ami = new ReplayRunner([unknownActionRecording({ Action: 'SIPpeers' }), unknownActionRecording({ Action: 'PJSIPShowEndpoints' })]);
    await expect(detectDriver(ami)).rejects.toBeInstanceOf(DriverDetectionError);
  });
});
