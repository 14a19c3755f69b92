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
