import { describe, expect, it } from 'vitest';
import { clickNumber } from '../../agent/ops/click-number.ts';
import { extenSpy } from '../../agent/ops/exten-spy.ts';
import { hangup } from '../../agent/ops/hangup.ts';
import { transfer } from '../../agent/ops/transfer.ts';
import { opContext, rejection, techOf } from '../support/op-context.ts';
import { ReplayRunner } from '../support/replay-runner.ts';

/** 801 -> 802 answered and bridged: CoreShowChannels and ExtensionStateList taken mid-call. */
const MID_CALL = '20_call_answered_hangup.txt';
const HINTS_IDLE = '07_extensionstatelist.txt';

for (const driver of ['chan_sip', 'pjsip'] as const) {
  const T = techOf(driver);
  const PEERS = driver === 'chan_sip' ? '06_sippeers_sipshowpeer.txt' : '06_endpoints_contacts.txt';
  // Channel names of the mid-call snapshot, as that recording has them.
  const [ch801, ch802] = driver === 'chan_sip' ? ['SIP/801-0000000c', 'SIP/802-0000000d'] : ['PJSIP/801-0000000b', 'PJSIP/802-0000000c'];

  describe(`${driver}: click-number`, () => {
    it('originates src with its own caller ID into the context, dialling dst', async () => {
      const ami = ReplayRunner.of(driver, [HINTS_IDLE, '32_click_to_call_mixmonitor.txt'], {
        keys: { Originate: ['Channel', 'Context', 'Exten', 'Priority'] },
      });
      const body = await clickNumber({ src: '805', dst: '802' }, opContext(driver, ami));
      expect(body).toEqual({ status: 'success', message: 'Originate successfully queued' });
      expect(ami.sent).toEqual([
        { Action: 'ExtensionStateList' },
        {
          Action: 'Originate',
          Channel: `${T}/805`,
          Context: 'internal',
          Exten: '802',
          Priority: '1',
          CallerID: '"805" <805>',
          Timeout: '30000',
          Async: 'true',
        },
      ]);
    });

    it('answers 409 when src is unregistered, before originating', async () => {
      const ami = ReplayRunner.of(driver, [HINTS_IDLE]);
      const err = await rejection(clickNumber({ src: '807', dst: '802' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(err.message).toMatch(/807 is not registered/);
      expect(ami.sentOf('Originate')).toEqual([]);
    });

    it('answers 409 when src is on a call', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL]);
      const err = await rejection(clickNumber({ src: '801', dst: '805' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(err.message).toMatch(/801 is busy \(InUse\)/);
      expect(ami.sentOf('Originate')).toEqual([]);
    });

    it('without a hint, asks the peer list: no such phone is 409', async () => {
      const ami = ReplayRunner.of(driver, [HINTS_IDLE, PEERS]);
      const err = await rejection(clickNumber({ src: '899', dst: '802' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(ami.sent.map((a) => a.Action)).toEqual(
        driver === 'chan_sip' ? ['ExtensionStateList', 'SIPpeers'] : ['ExtensionStateList', 'PJSIPShowEndpoints', 'PJSIPShowContacts'],
      );
    });
  });

  describe(`${driver}: hangup`, () => {
    it("hangs up the extension's channel with Normal Clearing", async () => {
      // Hangup of this call's channel was not recorded; the recorded Hangup of a live channel answers.
      const ami = ReplayRunner.of(driver, [MID_CALL, '12_hangup_by_channel.txt'], { keys: { Hangup: [] } });
      expect(await hangup({ extension: '801' }, opContext(driver, ami))).toEqual({ status: 'success', message: 'hangup extension success' });
      expect(ami.sent).toEqual([{ Action: 'CoreShowChannels' }, { Action: 'Hangup', Channel: ch801, Cause: '16' }]);
    });

    it('answers 409 for an extension without a call, and never matches a longer extension', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL]);
      expect((await rejection(hangup({ extension: '806' }, opContext(driver, ami)))).status).toBe(409);
      // `80` must not take `801-...` or `802-...` for its own.
      expect((await rejection(hangup({ extension: '80' }, opContext(driver, ami)))).message).toBe('Extension 80 has no call to hang up');
      expect(ami.sentOf('Hangup')).toEqual([]);
    });
  });

  describe(`${driver}: transfer`, () => {
    it('redirects the party src talks to, to dst in the context', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL, '13_redirect_transfer.txt'], { keys: { Redirect: ['Context', 'Exten', 'Priority'] } });
      expect(await transfer({ src: '801', dst: '806' }, opContext(driver, ami))).toEqual({
        status: 'success',
        message: 'tansfer extension success',
      });
      expect(ami.sentOf('Redirect')).toEqual([{ Action: 'Redirect', Channel: ch802, Context: 'internal', Exten: '806', Priority: '1' }]);
      // Marked first, so the call record says where the call went (a Redirect raises no transfer event).
      expect(ami.sentOf('Setvar')).toEqual([{ Action: 'Setvar', Channel: ch802, Variable: 'COOCENTER_TRANSFER', Value: '806' }]);
    });

    it('answers 409 when the call ended before the redirect (Channel does not exist)', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL, '13_redirect_transfer.txt'], { keys: { Redirect: ['Context', 'Exten', 'Priority'] } });
      await transfer({ src: '801', dst: '806' }, opContext(driver, ami));
      // The second recorded Redirect is Asterisk refusing a channel that is gone.
      expect((await rejection(transfer({ src: '801', dst: '806' }, opContext(driver, ami)))).status).toBe(409);
    });

    it('answers 409 when src is not in a bridged call', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL]);
      const err = await rejection(transfer({ src: '805', dst: '806' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(ami.sentOf('Redirect')).toEqual([]);
    });
  });

  describe(`${driver}: extenSpy`, () => {
    it("originates src into ChanSpy on exactly dst's channel, quiet and ending with the call", async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL, '14_originate_chanspy.txt'], { keys: { Originate: ['Channel', 'Application'] } });
      expect(await extenSpy({ src: '805', dst: '802' }, opContext(driver, ami))).toEqual({ status: 'success', message: 'spy extension success' });
      expect(ami.sentOf('Originate')).toEqual([
        { Action: 'Originate', Channel: `${T}/805`, Application: 'ChanSpy', Data: `${ch802},qES`, CallerID: '"Spy 802" <802>', Async: 'true' },
      ]);
    });

    it('answers 409 when dst is not on a call', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL]);
      expect((await rejection(extenSpy({ src: '805', dst: '806' }, opContext(driver, ami)))).status).toBe(409);
      expect(ami.sentOf('Originate')).toEqual([]);
    });

    it('answers 409 when the listener is itself on a call', async () => {
      const ami = ReplayRunner.of(driver, [MID_CALL]);
      expect((await rejection(extenSpy({ src: '801', dst: '802' }, opContext(driver, ami)))).message).toMatch(/801 is busy/);
      expect(ami.sentOf('Originate')).toEqual([]);
    });
  });
}
