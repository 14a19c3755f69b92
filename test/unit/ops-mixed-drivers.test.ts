import { describe, expect, it } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { agentLogin } from '../../agent/ops/agent-login.ts';
import { agentLogout } from '../../agent/ops/agent-logout.ts';
import { agentPause } from '../../agent/ops/agent-pause.ts';
import { clickNumber } from '../../agent/ops/click-number.ts';
import type { OpContext } from '../../agent/ops/context.ts';
import { extenSpy } from '../../agent/ops/exten-spy.ts';
import { extensionHintsStatus } from '../../agent/ops/extension-hints-status.ts';
import { extensionStatus } from '../../agent/ops/extension-status.ts';
import { hangup } from '../../agent/ops/hangup.ts';
import { transfer } from '../../agent/ops/transfer.ts';
import { opContext } from '../support/op-context.ts';
import { ReplayRunner, type Recording, type ReplayOptions } from '../support/replay-runner.ts';

/**
 * A FreePBX 13-16 box running chan_sip and PJSIP side by side, scripted in the shape of the recorded
 * answers: 800 and 806 are SIP phones, 805 and 807 PJSIP; 801 (SIP) and 808 (PJSIP) have no hint and
 * are found in the peer lists. SIP has fewer phones, so PJSIP is the default.
 */
const answer = (action: Record<string, string>, events: Record<string, string>[] = [], response: Record<string, string> = {}): Recording => ({
  source: 'scripted: mixed chan_sip + PJSIP box',
  action,
  result: { response: AmiMessage.from({ Response: 'Success', ...response }), events: events.map((e) => AmiMessage.from(e)) },
  error: false,
});

const hint = (exten: string, devices: string, status = '0') => ({
  Event: 'ExtensionStatus',
  Exten: exten,
  Context: 'internal',
  Hint: devices,
  Status: status,
  StatusText: status === '0' ? 'Idle' : 'InUse',
});
const HINTS = [hint('800', 'SIP/800', '1'), hint('805', 'PJSIP/805&Custom:DND805', '1'), hint('806', 'SIP/806'), hint('807', 'Custom:DND807&PJSIP/807')];
const IDLE_HINTS = HINTS.map((h) => ({ ...h, Status: '0', StatusText: 'Idle' }));

const SIP_PEERS = ['800', '801', '806'].map((p) => ({ Event: 'PeerEntry', ObjectName: p, IPaddress: '192.168.1.10', Status: 'OK (3 ms)' }));
const ENDPOINTS = ['805', '807', '808', '809'].map((p) => ({ Event: 'EndpointList', ObjectName: p }));
const CONTACTS = ['805', '807', '808'].map((p) => ({ Event: 'ContactList', Endpoint: p, Uri: `sip:${p}@192.168.1.20:5060`, Status: 'Reachable', RoundtripUsec: '2400' }));

/** 800 (SIP) talks to 805 (PJSIP); a PJSIP trunk channel named like 800 must never be taken for 800's. */
const CHANNELS = [
  { Event: 'CoreShowChannel', Channel: 'SIP/800-0000001a', BridgeId: 'b1' },
  { Event: 'CoreShowChannel', Channel: 'PJSIP/805-0000001b', BridgeId: 'b1' },
  { Event: 'CoreShowChannel', Channel: 'PJSIP/800-0000001c', BridgeId: '' },
];

const member = (location: string, membership = 'dynamic', stateInterface = location) => ({
  Event: 'QueueMember',
  Queue: '630',
  Location: location,
  StateInterface: stateInterface,
  Membership: membership,
  Paused: '0',
  Penalty: '0',
});
/** Queue 630 with 800 as SIP/800 and 805 as PJSIP/805, and a same-numbered member of the other kind. */
const QUEUE_630 = [{ Event: 'QueueParams', Queue: '630' }, member('SIP/800'), member('PJSIP/805'), member('PJSIP/800', 'static')];

function mixedBox(extra: Recording[] = [], options?: ReplayOptions) {
  return new ReplayRunner(
    [
      answer({ Action: 'ExtensionStateList' }, HINTS),
      answer({ Action: 'SIPpeers' }, SIP_PEERS),
      answer({ Action: 'PJSIPShowEndpoints' }, ENDPOINTS),
      answer({ Action: 'PJSIPShowContacts' }, CONTACTS),
      answer({ Action: 'CoreShowChannels' }, CHANNELS),
      answer({ Action: 'QueueStatus', Queue: '630' }, QUEUE_630),
      ...extra,
    ],
    options,
  );
}

const idleHints = () => answer({ Action: 'ExtensionStateList' }, IDLE_HINTS);
const ctxOf = (ami: ReplayRunner, extra: Partial<OpContext> = {}) => opContext('pjsip', ami, { drivers: ['sip', 'pjsip'], ...extra });
const originate = (channel: string) =>
  answer({ Action: 'Originate', Channel: channel, Context: 'internal', Exten: '600', Priority: '1', CallerID: '', Timeout: '30000', Async: 'true' });

describe('a box with chan_sip and PJSIP side by side', () => {
  describe('click-number', () => {
    it("rings each hinted phone with its own technology, from the hints the busy check reads (no extra action)", async () => {
      for (const [src, channel] of [
        ['800', 'SIP/800'],
        ['805', 'PJSIP/805'],
        ['807', 'PJSIP/807'],
      ] as const) {
        const ami = new ReplayRunner([idleHints(), originate(channel)], { keys: { Originate: ['Channel'] } });
        await clickNumber({ src, dst: '600' }, ctxOf(ami));
        expect(ami.sent.map((a) => a.Action)).toEqual(['ExtensionStateList', 'Originate']);
        expect(ami.sentOf('Originate')[0]?.Channel).toBe(channel);
      }
    });

    it('finds an extension without a hint in the SIP peer or PJSIP endpoint list', async () => {
      for (const [src, channel] of [
        ['801', 'SIP/801'],
        ['808', 'PJSIP/808'],
      ] as const) {
        const ami = mixedBox([originate(channel)], { keys: { Originate: ['Channel'] } });
        await clickNumber({ src, dst: '600' }, ctxOf(ami));
        expect(ami.sent.map((a) => a.Action)).toEqual(['ExtensionStateList', 'SIPpeers', 'PJSIPShowEndpoints', 'PJSIPShowContacts', 'Originate']);
        expect(ami.sentOf('Originate')[0]?.Channel).toBe(channel);
      }
    });

    it('names both kinds when an extension is neither', async () => {
      const ami = mixedBox();
      await expect(clickNumber({ src: '899', dst: '600' }, ctxOf(ami))).rejects.toThrow('Extension 899 is not a SIP or PJSIP phone on this PBX');
    });
  });

  describe('hangup', () => {
    it("hangs up exactly the extension's channels, of its own technology", async () => {
      for (const [extension, channel] of [
        ['800', 'SIP/800-0000001a'],
        ['805', 'PJSIP/805-0000001b'],
      ] as const) {
        const ami = mixedBox([answer({ Action: 'Hangup', Channel: channel, Cause: '16' })]);
        await hangup({ extension }, ctxOf(ami));
        expect(ami.sentOf('Hangup')).toEqual([{ Action: 'Hangup', Channel: channel, Cause: '16' }]);
      }
    });
  });

  describe('transfer', () => {
    it("redirects the partner of each extension's own channel", async () => {
      for (const [src, partner] of [
        ['800', 'PJSIP/805-0000001b'],
        ['805', 'SIP/800-0000001a'],
      ] as const) {
        const ami = mixedBox([answer({ Action: 'Redirect', Channel: partner, Context: 'internal', Exten: '806', Priority: '1' })]);
        await transfer({ src, dst: '806' }, ctxOf(ami));
        expect(ami.sentOf('Redirect')).toHaveLength(1);
      }
    });
  });

  describe('extenSpy', () => {
    it("spies on exactly dst's channel and rings the listener on its own technology, reading the hints once", async () => {
      for (const [src, dst, listener, target] of [
        ['806', '805', 'SIP/806', 'PJSIP/805-0000001b'],
        ['807', '800', 'PJSIP/807', 'SIP/800-0000001a'],
      ] as const) {
        const spy = answer({ Action: 'Originate', Channel: listener, Application: 'ChanSpy', Data: `${target},qES`, CallerID: '', Async: 'true' });
        const ami = mixedBox([spy], { keys: { Originate: ['Channel', 'Data'] } });
        await extenSpy({ src, dst }, ctxOf(ami));
        expect(ami.sent.map((a) => a.Action)).toEqual(['CoreShowChannels', 'ExtensionStateList', 'Originate']);
      }
    });
  });

  describe('agent-login', () => {
    it('adds each phone with its own technology, as Interface or as StateInterface of the member template', async () => {
      const add = (iface: string, state?: string) => answer({ Action: 'QueueAdd', Queue: '630', Interface: iface, ...(state ? { StateInterface: state } : {}) });
      const plain = mixedBox([add('SIP/806'), add('PJSIP/807')]);
      await agentLogin({ extension: '806', queue: '630' }, ctxOf(plain));
      await agentLogin({ extension: '807', queue: '630' }, ctxOf(plain));
      expect(plain.sentOf('QueueAdd').map((a) => a.Interface)).toEqual(['SIP/806', 'PJSIP/807']);

      const local = mixedBox([add('Local/806@agents/n', 'SIP/806'), add('Local/807@agents/n', 'PJSIP/807')]);
      const ctx = ctxOf(local, { memberInterface: 'Local/{ext}@agents/n' });
      await agentLogin({ extension: '806', queue: '630' }, ctx);
      await agentLogin({ extension: '807', queue: '630' }, ctx);
      expect(local.sentOf('QueueAdd').map((a) => a.StateInterface)).toEqual(['SIP/806', 'PJSIP/807']);
    });

  });

  describe('agent-logout', () => {
    it("removes the extension's own member only", async () => {
      // With the other technology's static PJSIP/800 counted as 800's, logout would be refused (409).
      const ami = mixedBox([answer({ Action: 'QueueRemove', Queue: '630', Interface: 'SIP/800' }), answer({ Action: 'QueueRemove', Queue: '630', Interface: 'PJSIP/805' })]);
      await agentLogout({ extension: '800', queue: '630' }, ctxOf(ami));
      await agentLogout({ extension: '805', queue: '630' }, ctxOf(ami));
      expect(ami.sentOf('QueueRemove').map((a) => a.Interface)).toEqual(['SIP/800', 'PJSIP/805']);
    });
  });

  describe('agent-pause', () => {
    it("pauses the extension's own interface", async () => {
      const pause = (iface: string) => answer({ Action: 'QueuePause', Interface: iface, Paused: 'true', Queue: '630' });
      const ami = mixedBox([pause('SIP/800'), pause('PJSIP/805')]);
      await agentPause({ queue: '630', member: '800', state: 'on' }, ctxOf(ami));
      await agentPause({ queue: '630', member: '805', state: 'on' }, ctxOf(ami));
      expect(ami.sentOf('QueuePause').map((a) => a.Interface)).toEqual(['SIP/800', 'PJSIP/805']);
    });
  });

  describe('extension-status', () => {
    it('lists the SIP peers and the PJSIP endpoints, each with its own Type', async () => {
      const ami = mixedBox();
      const body = await extensionStatus({}, ctxOf(ami));
      expect(body.data.map((r) => `${r.Type}/${r.Exten}`)).toEqual(['SIP/800', 'SIP/801', 'SIP/806', 'PJSIP/805', 'PJSIP/807', 'PJSIP/808', 'PJSIP/809']);
      expect(body.data.find((r) => r.Exten === '805')).toEqual({ Exten: '805', Type: 'PJSIP', IPAddr: '192.168.1.20', Status: 'OK (2 ms)' });
      expect(body.data.find((r) => r.Exten === '809')).toMatchObject({ IPAddr: '-none-' });
    });
  });

  describe('extension-hints-status', () => {
    it("gives each hint its phone's technology and asks each phone's own driver for its name", async () => {
      const ami = mixedBox([
        answer({ Action: 'SIPshowpeer', Peer: '800' }, [], { Callerid: '"Agent 800" <800>' }),
        answer({ Action: 'SIPshowpeer', Peer: '806' }, [], { Callerid: '<806>' }),
        answer({ Action: 'PJSIPShowEndpoint', Endpoint: '805' }, [{ Event: 'EndpointDetail', Callerid: '"Agent 805" <805>' }]),
        answer({ Action: 'PJSIPShowEndpoint', Endpoint: '807' }, [{ Event: 'EndpointDetail', Callerid: '' }]),
      ]);
      const rows = await extensionHintsStatus({}, ctxOf(ami));
      expect(rows.map((r) => [r.extension, r.extenType, r.agentName])).toEqual([
        ['800', 'SIP', 'Agent 800'],
        ['805', 'PJSIP', 'Agent 805'],
        ['806', 'SIP', '806'],
        ['807', 'PJSIP', '807'],
      ]);
    });
  });
});

describe('a box with one driver', () => {
  it('takes every extension as that driver without asking anything more', async () => {
    const ami = mixedBox([answer({ Action: 'Hangup', Channel: 'PJSIP/800-0000001c', Cause: '16' })]);
    await hangup({ extension: '800' }, opContext('pjsip', ami));
    expect(ami.sent.map((a) => a.Action)).toEqual(['CoreShowChannels', 'Hangup']);
    expect(ami.sentOf('Hangup')[0]?.Channel).toBe('PJSIP/800-0000001c');
  });
});
