import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { PbxSim } from '../pbxsim/index.ts';
import { agentCommand, kill9, startAgentProcess, type AgentProcess } from '../support/agent-process.ts';
import { until } from '../support/wait.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';

/** The box's zone: the simulator writes its records in it, the agent reads them in it. */
export const BOX_TZ = 'Asia/Shanghai';
/** As the issue asks: the agent stays dead this long while calls go on. */
export const DEAD_MS = 30_000;

type Doc = Record<string, unknown> & { event: string };

export interface Received {
  id: string;
  doc: Doc;
}

export const received = (rx: WebhookReceiver): Received[] =>
  rx.received.filter((r) => r.headers['webhook-id'] !== undefined).map((r) => ({ id: String(r.headers['webhook-id']), doc: JSON.parse(r.body) as Doc }));

/** What tells the live cdr apart from every other record of the run. */
const cdrKey = (d: Doc) => `${d.uniqueid}|${d.starttime}|${d.destination}|${d.disposition}|${d.answertime}`;

export interface GapCalls {
  /** Answered before the kill, hung up while the agent was dead. */
  spanning: string;
  answered: string;
  abandoned: string;
  direct: string;
  /** The live cdr seen before the kill. */
  liveCdr: Doc;
}

/**
 * The agent runs, a call is recorded live, a queue call is answered, then the agent is killed with
 * -9 and stays dead 30 s while the spanning call ends and three more calls are made (a queue call
 * answered, one abandoned, a direct call). `beforeRestart` may copy the records elsewhere (the CDR
 * database). Returns the calls' ids once the agent is back.
 */
export async function killDuringCalls(o: {
  sim: PbxSim;
  conf: string;
  children: ChildProcess[];
  rx: WebhookReceiver;
  beforeRestart?: () => Promise<void>;
}): Promise<{ calls: GapCalls; agent: AgentProcess }> {
  const { sim, conf, children, rx } = o;
  const cmd = agentCommand();
  const start = () => startAgentProcess(conf, children, { ...cmd, env: { ...cmd.env, TZ: BOX_TZ } });
  let agent = await start();
  const live = sim.inboundCall({ from: '801', to: '802', talkMs: 1000 });
  await live.done;
  const liveCdr = await until(() => received(rx).find((r) => r.doc.event === 'cdr' && r.doc.uniqueid === live.uniqueid)?.doc, 'the live cdr', 15_000);

  sim.setPhone('800', { answerAfterMs: 500 });
  sim.setPhone('801', { answerAfterMs: null });
  const spanning = sim.queueCall({ from: '13800138000', queue: '630', talkMs: 6000, hangupBy: 'caller' });
  await until(async () => {
    const r = await fetch(`${agent.lanUrl}/extensions/current-calls`, { method: 'POST' });
    const body = (await r.json()) as { data: { channelstatedesc: string }[] };
    return body.data.length === 2 && body.data.every((c) => c.channelstatedesc === 'Up') ? true : undefined;
  }, 'the spanning queue call answered');
  await kill9(agent.child);
  const killedAt = Date.now();

  const answered = sim.queueCall({ from: '13900139000', queue: '630', talkMs: 2000, hangupBy: 'caller' });
  await answered.done;
  sim.setPhone('800', { answerAfterMs: null });
  const abandoned = sim.queueCall({ from: '13700137000', queue: '630', hangupAfterMs: 3000 });
  await abandoned.done;
  sim.setPhone('800', { answerAfterMs: 500 });
  const direct = sim.inboundCall({ from: '803', to: '802', talkMs: 1000 });
  await Promise.all([direct.done, spanning.done]);
  // The downtime itself is the scenario, not a condition to wait for.
  await new Promise((r) => setTimeout(r, Math.max(0, DEAD_MS - (Date.now() - killedAt))));
  await o.beforeRestart?.();
  agent = await start();
  return { calls: { spanning: spanning.linkedid, answered: answered.linkedid, abandoned: abandoned.linkedid, direct: direct.linkedid, liveCdr }, agent };
}

/** What every run must show once the agent is back: the gap's calls arrive backfilled, none twice. */
export async function expectBackfilled(rx: WebhookReceiver, calls: GapCalls, masterCsv: string): Promise<Received[]> {
  const backfilled = () => received(rx).filter((r) => r.doc.backfilled === true);
  const ofCall = (uuid: string) => backfilled().filter((r) => r.doc.uuid === uuid || r.doc.uniqueid === uuid);
  await until(
    () => [calls.spanning, calls.answered, calls.abandoned].every((c) => ofCall(c).some((r) => r.doc.event === 'cc_cdr')) && ofCall(calls.direct).some((r) => r.doc.event === 'cdr'),
    'the backfilled records of every call made while the agent was dead',
    20_000,
  );
  const all = backfilled();
  for (const r of all) expect(r.id).toMatch(/^evt_[0-9a-f]{12}_bf_[0-9a-f]{32}$/);
  // One id per record: as many cdr ids as the box wrote records for those calls (a ring-all call has
  // one per phone rung, alike but for their channels), a record sent again keeps its id and body.
  const gapCalls = new Set([calls.spanning, calls.answered, calls.abandoned, calls.direct]);
  const written = masterCsvAsCdrRows(masterCsv).filter((r) => gapCalls.has(String(r.linkedid)));
  const cdrIds = new Set(all.filter((r) => r.doc.event === 'cdr').map((r) => r.id));
  expect(cdrIds.size).toBe(written.length);
  const bodyOf = new Map<string, string>();
  for (const r of all) {
    const body = JSON.stringify(r.doc);
    if (bodyOf.has(r.id)) expect(body).toBe(bodyOf.get(r.id));
    bodyOf.set(r.id, body);
  }
  expect(new Set(all.filter((r) => r.doc.event === 'cc_cdr').map((r) => r.id)).size).toBe(3);
  // The live cdr sent before the kill is not sent again as a backfilled one.
  expect(all.some((r) => r.doc.event === 'cdr' && cdrKey(r.doc) === cdrKey(calls.liveCdr))).toBe(false);
  // Queue calls only get a cc_cdr; a direct call its cdr.
  expect(ofCall(calls.direct).some((r) => r.doc.event === 'cc_cdr')).toBe(false);

  const cc = (uuid: string) => ofCall(uuid).find((r) => r.doc.event === 'cc_cdr')!.doc;
  expect(cc(calls.spanning)).toMatchObject({ caller: '13800138000', queueCode: '630', agentCode: '800', cdrState: 'bridged', hangupSide: 'caller', callType: 'incoming', missCause: '' });
  expect(cc(calls.answered)).toMatchObject({ caller: '13900139000', queueCode: '630', agentCode: '800', cdrState: 'bridged', talkingTime: '2' });
  expect(cc(calls.abandoned)).toMatchObject({ caller: '13700137000', queueCode: '630', agentCode: '', cdrState: 'queue', missCause: 'MEMBER_CANCEL', hangupSide: 'caller' });
  for (const c of [calls.spanning, calls.answered, calls.abandoned]) expect(cc(c).unknown).toEqual(expect.arrayContaining(['hangupCause', 'holdTime']));
  const directCdr = ofCall(calls.direct).find((r) => r.doc.event === 'cdr' && r.doc.source === '803')!.doc;
  expect(directCdr).toMatchObject({ source: '803', destination: '802', disposition: 'ANSWERED', calltype: '' });
  return all;
}

/** An api.conf for the agent, with whatever sections the run adds. */
export function writeConf(dir: string, amiPort: number, extra: string): string {
  const path = join(dir, 'api.conf');
  writeFileSync(path, `[general]\nBINDPORT=0\nmac=68:69:2e:03:8b:3e\n${extra}\n[ami]\nhost=127.0.0.1\nport=${amiPort}\nusername=coocenter\nsecret=coocenter\n`);
  return path;
}

/** Master.csv's records as FreePBX's cdr table holds them (cdr_adaptive_odbc writes the same CDRs there). */
export function masterCsvAsCdrRows(path: string): Record<string, string | number>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const f = csvFields(line);
      return {
        accountcode: f[0]!, src: f[1]!, dst: f[2]!, dcontext: f[3]!, clid: f[4]!, channel: f[5]!, dstchannel: f[6]!, lastapp: f[7]!, lastdata: f[8]!,
        calldate: f[9]!, duration: Number(f[12]), billsec: Number(f[13]), disposition: f[14]!, amaflags: 3, uniqueid: f[16]!, userfield: f[17]!,
        linkedid: f[19]!, sequence: Number(f[20]),
      };
    });
}

/** cdr_csv's quoting, read back: `"..."` with `""` inside, bare numbers, empty fields. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length && !(line[i] === '"' && line[i + 1] !== '"')) {
        v += line[i] === '"' ? '"' : line[i];
        i += line[i] === '"' ? 2 : 1;
      }
      out.push(v);
      i += 2; // the closing quote and the comma
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c === -1 ? line.length : c));
      i = c === -1 ? line.length + 1 : c + 1;
    }
  }
  return out;
}
