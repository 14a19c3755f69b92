import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import { loadTranscript, type Driver } from '../support/transcript.ts';
import { AmiTestClient } from './ami-test-client.ts';
import { startPbxSim, type PbxSim } from './index.ts';

/**
 * Phone-to-phone calls the recordings made with a SIP user agent, played here as scenarios: the
 * call-flow events must come in the recorded order with the recorded headers. Device/extension state
 * and Cdr interleave freely across topics (fixtures README), so they are checked apart.
 */
const FLOW = new Set(['Newchannel', 'DialBegin', 'DialState', 'DialEnd', 'BridgeCreate', 'BridgeEnter', 'BridgeLeave', 'BridgeDestroy', 'Hangup', 'UserEvent']);

function recorded(driver: Driver, name: string): AmiMessage[] {
  return new AmiParser({ expectBanner: true })
    .push(loadTranscript(driver, name).server)
    .flatMap((f) => (f.kind === 'message' && f.message.event && !f.message.actionId ? [f.message] : []));
}

const keys = (m: AmiMessage) => [...m.entries()].map(([k]) => k);

/** `SIP/802-00000019` -> `SIP/802`, `Local/802@agents-00000002;2` -> `Local/802@agents;2`. */
const shortName = (name: string | undefined) => (name ?? '').replace(/-[0-9a-f]{8}(;[12])?$/, '$1');

/** Sends a recording's own actions (Login and Logoff aside) and resolves when its calls are over. */
async function replayActions(sim: PbxSim, c: AmiTestClient, driver: Driver, file: string): Promise<void> {
  const actions = loadTranscript(driver, file)
    .steps.map((s) => s.client)
    .filter((t) => t && !/^Action: (Login|Logoff)\r\n/.test(t));
  for (const text of actions) {
    const id = /^ActionID: (.*)$/m.exec(text)?.[1] as string;
    const from = c.messages.length;
    c.writeRaw(text);
    await c.until(() => c.messages.slice(from).some((m) => m.actionId === id && m.response !== undefined && !m.event), `answer to ${id}`);
    if (text.startsWith('Action: Originate')) await c.event('OriginateResponse', { ActionID: id }, from);
    await c.until(() => sim.pbx.channels.size === 0, 'calls over', 10_000);
  }
}

const SCENARIOS: { file: string; run(sim: PbxSim, c: AmiTestClient, driver: Driver): { done: Promise<void> } }[] = [
  { file: '10_originate_async_success.txt', run: (sim, c, d) => ({ done: replayActions(sim, c, d, '10_originate_async_success.txt') }) },
  { file: '30_local_channel_call_cdr.txt', run: (sim, c, d) => ({ done: replayActions(sim, c, d, '30_local_channel_call_cdr.txt') }) },
  { file: '24_queue_answered.txt', run: (sim) => sim.queueCall({ from: '806', queue: '630', talkMs: 3000, hangupBy: 'callee' }) },
  {
    file: '25_queue_abandoned.txt',
    run: (sim) => {
      sim.setPhone('802', { answerAfterMs: null });
      return sim.queueCall({ from: '806', queue: '631', hangupAfterMs: 14_000 });
    },
  },
  { file: '27_ivr_userevent.txt', run: (sim) => sim.ivrCall({ from: '805', talkMs: 3000, hangupBy: 'caller' }) },
  { file: '20_call_answered_hangup.txt', run: (sim) => sim.inboundCall({ from: '801', to: '802', talkMs: 3000, hangupBy: 'callee' }) },
  { file: '21_call_busy.txt', run: (sim) => sim.inboundCall({ from: '801', to: '803' }) },
  { file: '22_call_noanswer.txt', run: (sim) => sim.inboundCall({ from: '801', to: '804' }) },
  {
    file: '23_call_caller_cancel.txt',
    run: (sim) => {
      sim.setPhone('802', { answerAfterMs: null });
      return sim.inboundCall({ from: '801', to: '802', hangupAfterMs: 3000 });
    },
  },
  {
    file: '28_blacklist_block.txt',
    run: (sim) => {
      sim.pbx.db.set('/blacklist/806', '1');
      return sim.inboundCall({ from: '806', to: '802' });
    },
  },
];

for (const [driver, fixtures] of [
  ['sip', 'chan_sip'],
  ['pjsip', 'pjsip'],
] as const) {
  describe(`phone calls on a ${driver} box`, () => {
    let sim: PbxSim;
    beforeAll(async () => {
      sim = await startPbxSim({ driver, timeScale: 0.02 });
    });
    afterAll(() => sim.close());

    for (const sc of SCENARIOS) {
      it(`plays ${sc.file} with the recorded call flow`, async () => {
        sim.reset();
        const c = await AmiTestClient.open(sim.port);
        try {
          await c.login('coocenter', 'coocenter');
          const from = c.messages.length;
          const call = sc.run(sim, c, fixtures);
          await call.done;
          const want = recorded(fixtures, sc.file);
          const wantFlow = want.filter((m) => FLOW.has(m.event as string));
          await c.until(() => c.messages.slice(from).filter((m) => m.event === 'Hangup').length === want.filter((m) => m.event === 'Hangup').length, 'every hangup');
          const got = c.messages.slice(from).filter((m) => m.event !== undefined);
          const gotFlow = got.filter((m) => FLOW.has(m.event as string));
          expect(gotFlow.map((m) => m.event)).toEqual(wantFlow.map((m) => m.event));
          for (const [i, m] of gotFlow.entries()) expect(keys(m), `${m.event} #${i}`).toEqual(keys(wantFlow[i] as AmiMessage));
          // Which channel ends how: the order between channels is free (Local halves race each other).
          const endings = (l: AmiMessage[]) =>
            l
              .filter((m) => m.event === 'Hangup' || m.event === 'DialEnd')
              .map((m) => `${m.event} ${shortName(m.get('DestChannel') ?? m.get('Channel'))} ${m.get('DialStatus') ?? ''} ${m.get('Cause') ?? ''} ${m.get('TechCause') ?? ''}`)
              .sort();
          expect(endings(gotFlow)).toEqual(endings(wantFlow));
          // Records of different channels come in either order (chan_sip/30 and pjsip/30 differ).
          const cdr = (l: AmiMessage[]) =>
            l
              .filter((m) => m.event === 'Cdr')
              .map((m) => [m.get('LastApplication'), m.get('Disposition'), m.get('Destination')].join(' '))
              .sort();
          expect(cdr(got)).toEqual(cdr(want));
        } finally {
          await c.close();
        }
      });
    }
  });
}

/**
 * The real call flows recorded later (33-40, chan_sip only): transfers, refused and empty queues, a
 * trunk call and an agent hanging up. What the agent reads is compared: every channel's own story
 * (its events in order, with DialStatus, Reason and Cause), the headers of each kind of event, how
 * Uniqueids and Linkedids relate, and, where the recording's order across channels is not a race
 * (README, Fidelity), the order of all of them.
 */
const AGENT_READS = new Set([
  'Newchannel',
  'Hangup',
  'HangupRequest',
  'SoftHangupRequest',
  'DialBegin',
  'DialEnd',
  'BridgeEnter',
  'BridgeLeave',
  'Hold',
  'Unhold',
  'QueueCallerJoin',
  'QueueCallerLeave',
  'QueueCallerAbandon',
  'AgentCalled',
  'AgentConnect',
  'AgentComplete',
  'AgentRingNoAnswer',
  'BlindTransfer',
  'AttendedTransfer',
]);

const label = (m: AmiMessage) => [m.event, m.get('DialStatus'), m.get('Reason'), m.get('Cause')].filter((v) => v !== undefined).join(' ');

/** Each channel's events (as Channel, DestChannel or a transfer party), in order. */
function stories(l: AmiMessage[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of l) {
    const names = new Set(['Channel', 'DestChannel', 'TransfererChannel', 'TransfereeChannel', 'OrigTransfererChannel'].map((k) => m.get(k)).filter((v): v is string => !!v).map(shortName));
    for (const n of names) (out[n] ??= []).push(label(m));
  }
  return out;
}

/** Maps recorded ids to played ids in order of appearance; every id must map one to one. */
function sameIdRelations(got: AmiMessage[], want: AmiMessage[]): void {
  const fwd = new Map<string, string>();
  const back = new Map<string, string>();
  for (const [i, w] of want.entries()) {
    const g = got[i] as AmiMessage;
    for (const k of ['Uniqueid', 'Linkedid', 'DestUniqueid', 'DestLinkedid', 'TargetUniqueid', 'TargetLinkedid']) {
      const wv = w.get(k);
      const gv = g.get(k);
      if (wv === undefined) continue;
      expect(gv, `${w.event} #${i} ${k}`).toBeDefined();
      if (!fwd.has(wv) && !back.has(gv as string)) {
        fwd.set(wv, gv as string);
        back.set(gv as string, wv);
      }
      expect(fwd.get(wv), `${w.event} #${i} ${k}`).toBe(gv);
    }
  }
}

interface Flow {
  file: string;
  /** The recording's order across channels holds in the simulator too (no race in between). */
  ordered: boolean;
  run(sim: PbxSim, c: AmiTestClient): Promise<void>;
}

const bridged = (c: AmiTestClient, from: number, chan: RegExp) => c.until(() => c.messages.slice(from).some((m) => m.event === 'BridgeEnter' && chan.test(m.get('Channel') ?? '')), `${chan} bridged`);
const chanOf = (c: AmiTestClient, from: number, prefix: string) => c.messages.slice(from).find((m) => m.event === 'Newchannel' && m.get('Channel')?.startsWith(prefix))?.get('Channel') as string;

const FLOWS: Flow[] = [
  {
    file: '33_queue_blind_transfer.txt',
    ordered: true,
    async run(sim, c) {
      const from = c.messages.length;
      const call = sim.queueCall({ from: '805', queue: '630' });
      await bridged(c, from, /^SIP\/800-/);
      await sim.pbx.sleep(undefined, 3000);
      const r = await c.action({ Action: 'BlindTransfer', Channel: chanOf(c, from, 'SIP/800-'), Exten: '802', Context: 'internal' });
      expect(r.response.get('Message')).toBe('Transfer succeeded');
      await bridged(c, from, /^SIP\/802-/);
      await sim.pbx.sleep(undefined, 5000);
      sim.hangupPhone('805');
      await call.done;
    },
  },
  {
    file: '35_direct_call_attended_transfer.txt',
    ordered: false,
    async run(sim, c) {
      const from = c.messages.length;
      const call = sim.inboundCall({ from: '805', to: '800' });
      await bridged(c, from, /^SIP\/800-/);
      const r = await c.action({ Action: 'Atxfer', Channel: chanOf(c, from, 'SIP/800-'), Exten: '802', Context: 'internal' });
      expect(r.response.get('Message')).toBe('Atxfer successfully queued');
      await bridged(c, from, /^SIP\/802-/);
      await sim.pbx.sleep(undefined, 3000);
      expect((await c.action({ Action: 'Hangup', Channel: chanOf(c, from, 'SIP/800-') })).response.get('Message')).toBe('Channel Hungup');
      await c.event('AttendedTransfer', {}, from);
      await sim.pbx.sleep(undefined, 5000);
      sim.hangupPhone('805');
      await call.done;
    },
  },
  { file: '37_queue_joinempty_refused.txt', ordered: true, run: (sim) => sim.queueCall({ from: '805', queue: '632' }).done },
  { file: '38_queue_empty_caller_waits.txt', ordered: true, run: (sim) => sim.queueCall({ from: '805', queue: '633', hangupAfterMs: 5000 }).done },
  // The agent's BridgeLeave races the caller's Hangup (27 has them the other way round).
  { file: '39_trunk_inbound_queue.txt', ordered: false, run: (sim) => sim.trunkCall({ from: '13800138000', did: '4001', talkMs: 5000, hangupBy: 'caller' }).done },
  {
    file: '40_queue_agent_hangs_up.txt',
    ordered: true,
    run: (sim) => {
      sim.setPhone('800', { hangupAfterMs: 4000 });
      return sim.queueCall({ from: '805', queue: '630' }).done;
    },
  },
];

describe('real call flows on a sip box (recordings 33-40)', () => {
  let sim: PbxSim;
  beforeAll(async () => {
    sim = await startPbxSim({ driver: 'sip', timeScale: 0.02 });
  });
  afterAll(() => sim.close());

  for (const flow of FLOWS) {
    it(`plays ${flow.file} as recorded`, async () => {
      sim.reset();
      const c = await AmiTestClient.open(sim.port);
      try {
        await c.login('coocenter', 'coocenter');
        const from = c.messages.length;
        await flow.run(sim, c);
        const want = recorded('chan_sip', flow.file);
        const wantFlow = want.filter((m) => AGENT_READS.has(m.event as string));
        await c.until(() => c.messages.slice(from).filter((m) => m.event === 'Hangup').length === want.filter((m) => m.event === 'Hangup').length, 'every hangup');
        const got = c.messages.slice(from).filter((m) => m.event !== undefined && !m.actionId);
        const gotFlow = got.filter((m) => AGENT_READS.has(m.event as string));
        expect(stories(gotFlow)).toEqual(stories(wantFlow));
        expect(gotFlow.map(label).sort()).toEqual(wantFlow.map(label).sort());
        if (flow.ordered) {
          expect(gotFlow.map(label)).toEqual(wantFlow.map(label));
          sameIdRelations(gotFlow, wantFlow);
        }
        for (const name of new Set(wantFlow.map((m) => m.event as string))) {
          const w = wantFlow.find((m) => m.event === name) as AmiMessage;
          expect(keys(gotFlow.find((m) => m.event === name) as AmiMessage), name).toEqual(keys(w));
        }
        // Every Uniqueid the recording shows, it shows with the same Linkedid story.
        const linked = (l: AmiMessage[]) => [...new Set(l.map((m) => `${shortName(m.get('Channel'))} ${m.get('Uniqueid') === m.get('Linkedid') ? 'own' : 'linked'}`))].sort();
        expect(linked(gotFlow.filter((m) => m.get('Channel')))).toEqual(linked(wantFlow.filter((m) => m.get('Channel'))));
        const cdr = (l: AmiMessage[]) =>
          l
            .filter((m) => m.event === 'Cdr')
            .map((m) => [shortName(m.get('Channel')), m.get('LastApplication'), m.get('Disposition')].join(' '))
            .sort();
        if (flow.file !== '35_direct_call_attended_transfer.txt') expect(cdr(got)).toEqual(cdr(want));
        // QUEUESTATUS and the transfer variables, which were noise before, are there when recorded.
        const vars = (l: AmiMessage[]) => l.filter((m) => m.event === 'VarSet' && /^(QUEUESTATUS|BLINDTRANSFER|ATTENDEDTRANSFER|TRANSFERERNAME)$/.test(m.get('Variable') ?? '')).map((m) => `${m.get('Variable')}=${m.get('Value') ? 'x' : ''}`);
        expect(new Set(vars(got))).toEqual(new Set(vars(want)));
        const queueExten = (l: AmiMessage[]) => l.filter((m) => m.event === 'Newexten' && m.get('Application') === 'Queue').map((m) => m.get('AppData'));
        expect(queueExten(got)).toEqual(queueExten(want));
      } finally {
        await c.close();
      }
    });
  }
});
