import { describe, expect, it } from 'vitest';
import { currentCalls } from '../../agent/ops/current-calls.ts';
import { extensionHintsStatus } from '../../agent/ops/extension-hints-status.ts';
import { extensionStatus } from '../../agent/ops/extension-status.ts';
import { queueInfo } from '../../agent/ops/queue-info.ts';
import { CallerIdNames } from '../../agent/ops/caller-id-names.ts';
import { opContext, techOf } from '../support/op-context.ts';
import { ReplayRunner } from '../support/replay-runner.ts';

for (const driver of ['chan_sip', 'pjsip'] as const) {
  const T = techOf(driver);

  describe(`${driver}: current-calls`, () => {
    it('gives one row per live channel with the documented fields, duration as HH:MM:SS', async () => {
      const ami = ReplayRunner.of(driver, ['05_coreshowchannels_active.txt']);
      const body = await currentCalls({}, opContext(driver, ami));
      expect(ami.sent).toEqual([{ Action: 'CoreShowChannels' }]);
      expect(body.status).toBe('success');
      expect(body.message).toBe('Channels will follow');
      expect(body.data).toHaveLength(2);
      const caller = body.data.find((r) => r.channel.startsWith(`${T}/801-`));
      expect(caller).toEqual({
        calleridname: 'Agent 801',
        calleridnum: '801',
        channel: expect.stringMatching(new RegExp(`^${T}/801-[0-9a-f]{8}$`)),
        channelstate: '6',
        channelstatedesc: 'Up',
        connectedlinename: 'Bob 802',
        connectedlinenum: '802',
        duration: '00:00:04',
      });
    });

    it('answers an empty list when nothing is up', async () => {
      const ami = ReplayRunner.of(driver, ['04_coreshowchannels_empty.txt']);
      expect((await currentCalls({}, opContext(driver, ami))).data).toEqual([]);
    });
  });

  describe(`${driver}: extension-status`, () => {
    it('lists every phone with address and status in chan_sip wording, -none- when unregistered', async () => {
      const ami = ReplayRunner.of(driver, [driver === 'chan_sip' ? '06_sippeers_sipshowpeer.txt' : '06_endpoints_contacts.txt']);
      const body = await extensionStatus({}, opContext(driver, ami));
      expect(ami.sent).toEqual(driver === 'chan_sip' ? [{ Action: 'SIPpeers' }] : [{ Action: 'PJSIPShowEndpoints' }, { Action: 'PJSIPShowContacts' }]);
      expect(body.message).toBe('Peer status list will follow');
      expect(body.data.map((r) => r.Exten)).toEqual(['800', '801', '802', '803', '804', '805', '806', '807', '808', '809']);
      // The recordings' phones are on loopback, qualified within a millisecond.
      expect(body.data[0]).toEqual({ Exten: '800', Type: T, IPAddr: '127.0.0.1', Status: 'OK (1 ms)' });
      expect(body.data[7]).toEqual({ Exten: '807', Type: T, IPAddr: '-none-', Status: 'UNKNOWN' });
      for (const row of body.data.slice(0, 7)) expect(row.Status).toMatch(/^OK \(\d+ ms\)$/);
    });
  });

  describe(`${driver}: extension-hints-status`, () => {
    it('is a bare array, sorted, with the caller ID name where the phone has one', async () => {
      // Only `SIPshowpeer 800` / `PJSIPShowEndpoint 800` (and one unknown peer) were recorded: any
      // other lookup is answered by the next recording, and the unknown peer's error then repeats.
      const lookup = driver === 'chan_sip' ? 'SIPshowpeer' : 'PJSIPShowEndpoint';
      const ami = ReplayRunner.of(driver, ['07_extensionstatelist.txt', driver === 'chan_sip' ? '06_sippeers_sipshowpeer.txt' : '06_endpoints_contacts.txt'], {
        keys: { [lookup]: [] },
      });
      const body = await extensionHintsStatus({}, opContext(driver, ami));
      expect(Array.isArray(body)).toBe(true);
      expect(body.map((r) => r.extension)).toEqual(['800', '801', '802', '803', '804', '805', '806', '807', '808', '809']);
      expect(body[0]).toEqual({ agentName: 'Agent 800', extension: '800', extenType: T, status: '0' });
      expect(body[1]).toEqual({ agentName: '801', extension: '801', extenType: T, status: '0' });
      expect(body[7]).toMatchObject({ extension: '807', status: '4' });
      const key = driver === 'chan_sip' ? 'Peer' : 'Endpoint';
      expect(ami.sent[0]).toEqual({ Action: 'ExtensionStateList' });
      expect(ami.sentOf(lookup).map((a) => a[key])).toEqual(body.map((r) => r.extension));
    });

    it('asks each phone for its name once while the cache is fresh', async () => {
      const lookup = driver === 'chan_sip' ? 'SIPshowpeer' : 'PJSIPShowEndpoint';
      let now = 0;
      const ctx = opContext(driver, ReplayRunner.of(driver, ['07_extensionstatelist.txt', driver === 'chan_sip' ? '06_sippeers_sipshowpeer.txt' : '06_endpoints_contacts.txt'], { keys: { [lookup]: [] } }), {
        names: new CallerIdNames(() => now, 60_000),
      });
      const ami = ctx.ami as ReplayRunner;
      await extensionHintsStatus({}, ctx);
      const again = await extensionHintsStatus({}, ctx);
      expect(again[0]?.agentName).toBe('Agent 800');
      expect(ami.sentOf(lookup)).toHaveLength(10);
      now = 60_001;
      await extensionHintsStatus({}, ctx);
      expect(ami.sentOf(lookup)).toHaveLength(20);
    });
  });

  describe(`${driver}: queue-info`, () => {
    it('keys members by queue, name being the interface (Location), values as strings', async () => {
      const ami = ReplayRunner.of(driver, ['08_queuestatus_queuesummary_idle.txt']);
      const body = await queueInfo({}, opContext(driver, ami));
      expect(ami.sent).toEqual([{ Action: 'QueueStatus' }]);
      expect(body).toEqual({
        status: 'success',
        message: 'Queue status will follow',
        data: {
          '630': [
            { name: `${T}/801`, paused: '0', penalty: '0' },
            { name: `${T}/800`, paused: '0', penalty: '0' },
          ],
          '631': [
            { name: 'Local/802@agents/n', paused: '0', penalty: '0' },
            { name: `${T}/806`, paused: '0', penalty: '5' },
          ],
        },
      });
    });
  });
}
