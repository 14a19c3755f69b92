import { describe, expect, it } from 'vitest';
import { AmiMessage } from '../../agent/ami/message.ts';
import { agentLogin } from '../../agent/ops/agent-login.ts';
import { agentLogout } from '../../agent/ops/agent-logout.ts';
import { agentPause } from '../../agent/ops/agent-pause.ts';
import { opContext, rejection, techOf } from '../support/op-context.ts';
import { recordingsOf, ReplayRunner, type Recording } from '../support/replay-runner.ts';

const IDLE = '08_queuestatus_queuesummary_idle.txt';
const MGMT = '09_queue_member_mgmt.txt';
const WAITING_631 = '25_queue_abandoned.txt';

for (const driver of ['chan_sip', 'pjsip'] as const) {
  const T = techOf(driver);

  describe(`${driver}: agent-pause`, () => {
    it('pauses and unpauses the interface the queue has for the member', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT], { keys: { QueuePause: ['Interface', 'Paused', 'Queue'] } });
      const ctx = opContext(driver, ami);
      expect(await agentPause({ queue: '630', member: '800', state: 'on' }, ctx)).toEqual({
        status: 'success',
        message: 'Interface paused successfully',
      });
      expect(await agentPause({ queue: '630', member: '800', state: 'off' }, ctx)).toEqual({
        status: 'success',
        message: 'Interface unpaused successfully',
      });
      expect(ami.sent).toEqual([
        { Action: 'QueueStatus', Queue: '630' },
        { Action: 'QueuePause', Interface: `${T}/800`, Paused: 'true', Queue: '630' },
        { Action: 'QueueStatus', Queue: '630' },
        { Action: 'QueuePause', Interface: `${T}/800`, Paused: 'false', Queue: '630' },
      ]);
    });

    it('pauses a Local-channel member by its Local interface (queue 631)', async () => {
      // QueuePause of this interface was not recorded; the recorded pause answers, the interface is asserted.
      const ami = ReplayRunner.of(driver, [WAITING_631, MGMT], { keys: { QueuePause: ['Paused'] } });
      await agentPause({ queue: '631', member: '802', state: 'on' }, opContext(driver, ami));
      expect(ami.sentOf('QueuePause')).toEqual([{ Action: 'QueuePause', Interface: 'Local/802@agents/n', Paused: 'true', Queue: '631' }]);
    });

    it('answers 409 for an extension that is not a member, without pausing anything', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT]);
      const err = await rejection(agentPause({ queue: '630', member: '805', state: 'on' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(err.message).toBe('805 is not a member of queue 630; log it in first');
      expect(ami.sentOf('QueuePause')).toEqual([]);
    });

    it('answers 404 for a queue Asterisk does not have', async () => {
      const ami = ReplayRunner.of(driver, ['17_error_responses.txt']);
      const err = await rejection(agentPause({ queue: 'nosuchqueue', member: '800', state: 'on' }, opContext(driver, ami)));
      expect(err.status).toBe(404);
    });
  });

  describe(`${driver}: agent-login`, () => {
    it("adds the driver's interface", async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT], { keys: { QueueAdd: ['Queue', 'Interface'] } });
      const body = await agentLogin({ extension: '805', queue: '630' }, opContext(driver, ami));
      expect(body).toEqual({ status: 'success', message: 'login extension success' });
      expect(ami.sentOf('QueueAdd')).toEqual([{ Action: 'QueueAdd', Queue: '630', Interface: `${T}/805` }]);
    });

    it('adds the member_interface template with StateInterface set to the phone', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT], { keys: { QueueAdd: ['Queue'] } });
      await agentLogin({ extension: '805', queue: '630' }, opContext(driver, ami, { memberInterface: 'Local/{ext}@agents/n' }));
      expect(ami.sentOf('QueueAdd')).toEqual([
        { Action: 'QueueAdd', Queue: '630', Interface: 'Local/805@agents/n', StateInterface: `${T}/805` },
      ]);
    });

    it('succeeds without change for a member already in the queue, under any interface', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, WAITING_631]);
      const ctx = opContext(driver, ami, { memberInterface: 'Local/{ext}@agents/n' });
      expect((await agentLogin({ extension: '800', queue: '630' }, ctx)).message).toBe('login extension success');
      expect((await agentLogin({ extension: '802', queue: '631' }, ctx)).message).toBe('login extension success');
      expect(ami.sentOf('QueueAdd')).toEqual([]);
    });

    it('succeeds when Asterisk says the member is already there (two logins at once)', async () => {
      // Default keys: only the recorded plain QueueAdd matches, and it was the duplicate.
      const ami = ReplayRunner.of(driver, [IDLE, MGMT]);
      expect((await agentLogin({ extension: '805', queue: '630' }, opContext(driver, ami))).status).toBe('success');
    });

    it('answers 404 for an unknown queue', async () => {
      const ami = ReplayRunner.of(driver, ['17_error_responses.txt']);
      const err = await rejection(agentLogin({ extension: '805', queue: 'nosuchqueue' }, opContext(driver, ami)));
      expect(err.status).toBe(404);
      expect(err.message).toBe('Queue nosuchqueue does not exist');
    });
  });

  describe(`${driver}: agent-logout`, () => {
    it('answers 409 for a static member, saying it is configured in queues.conf', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT]);
      const err = await rejection(agentLogout({ extension: '800', queue: '630' }, opContext(driver, ami)));
      expect(err.status).toBe(409);
      expect(err.message).toContain('queues.conf');
      expect(ami.sentOf('QueueRemove')).toEqual([]);
    });

    it('succeeds without change for an extension that is not a member', async () => {
      const ami = ReplayRunner.of(driver, [IDLE, MGMT]);
      expect(await agentLogout({ extension: '805', queue: '630' }, opContext(driver, ami))).toEqual({
        status: 'success',
        message: 'logout extension success',
      });
      expect(ami.sentOf('QueueRemove')).toEqual([]);
    });

    it('removes a dynamic member by its interface', async () => {
      // The recorded QueueStatus of 630, with member 801 as QueueAdd leaves it (Membership: dynamic).
      const recordings = recordingsOf(driver, IDLE).map((r): Recording =>
        r.action.Queue !== '630'
          ? r
          : {
              ...r,
              result: {
                ...r.result,
                events: r.result.events.map((e) =>
                  e.get('Location') === `${T}/801` ? AmiMessage.from({ ...e.toJSON(), Membership: 'dynamic' }) : e,
                ),
              },
            },
      );
      const ami = new ReplayRunner([...recordings, ...recordingsOf(driver, MGMT)], { keys: { QueueRemove: ['Queue'] } });
      expect((await agentLogout({ extension: '801', queue: '630' }, opContext(driver, ami))).status).toBe('success');
      expect(ami.sentOf('QueueRemove')).toEqual([{ Action: 'QueueRemove', Queue: '630', Interface: `${T}/801` }]);
    });
  });
}
