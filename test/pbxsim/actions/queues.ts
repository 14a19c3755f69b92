import type { Member, Pbx, QueueState } from '../pbx.ts';
import type { Pairs } from '../wire.ts';
import { eventList, failure, header, isTrue, success, type ActionTable, type ListItem } from './reply.ts';

function memberListItem(m: Member): ListItem {
  return {
    event: 'QueueMember',
    idLast: true,
    body: [
      ['Queue', m.queue],
      ['Name', m.name],
      ['Location', m.location],
      ['StateInterface', m.stateInterface],
      ['Membership', m.membership],
      ['Penalty', String(m.penalty)],
      ['CallsTaken', String(m.callsTaken)],
      ['LastCall', String(m.lastCall)],
      ['LastPause', String(m.lastPause)],
      ['LoginTime', String(m.loginTime)],
      ['InCall', m.inCall ? '1' : '0'],
      ['Status', String(m.status)],
      ['Paused', m.paused ? '1' : '0'],
      ['PausedReason', m.pausedReason],
      ['Wrapuptime', '0'],
    ],
  };
}

function paramsItem(pbx: Pbx, q: QueueState): ListItem {
  const total = q.completed + q.abandoned;
  return {
    event: 'QueueParams',
    idLast: true,
    body: [
      ['Queue', q.cfg.name],
      ['Max', '0'],
      ['Strategy', q.cfg.strategy],
      ['Calls', String(q.callers.length)],
      ['Holdtime', String(q.holdtime)],
      ['TalkTime', String(q.talktime)],
      ['Completed', String(q.completed)],
      ['Abandoned', String(q.abandoned)],
      ['ServiceLevel', '0'],
      ['ServicelevelPerf', total ? ((100 * q.completed) / total).toFixed(1) : '0.0'],
      ['ServicelevelPerf2', total ? ((100 * q.completed) / total).toFixed(1) : '0.0'],
      ['Weight', '0'],
    ],
  };
}

function entryItems(pbx: Pbx, q: QueueState): ListItem[] {
  return q.callers.map((e, i) => ({
    event: 'QueueEntry',
    idLast: true,
    body: [
      ['Queue', q.cfg.name],
      ['Position', String(i + 1)],
      ['Channel', e.ch.name],
      ['Uniqueid', e.ch.uniqueid],
      ['CallerIDNum', e.ch.callerNum],
      ['CallerIDName', e.ch.callerName],
      ['ConnectedLineNum', e.ch.connectedNum],
      ['ConnectedLineName', e.ch.connectedName],
      ['Wait', String(Math.floor((pbx.now() - e.joinedAt) / 1000))],
      ['Priority', '0'],
    ] as Pairs,
  }));
}

function queuesFor(pbx: Pbx, name: string | undefined): QueueState[] {
  if (!name) return [...pbx.queues.values()];
  const q = pbx.queues.get(name);
  return q ? [q] : [];
}

/** Members with this interface (Location), in one queue or all. */
function membersAt(pbx: Pbx, iface: string, queue: string | undefined): Member[] {
  return queuesFor(pbx, queue).flatMap((q) => q.members.filter((m) => m.location === iface));
}

export const queueActions: ActionTable = {
  QueueStatus(ctx) {
    const member = header(ctx, 'Member');
    const items = queuesFor(ctx.pbx, header(ctx, 'Queue')).flatMap((q) => [
      paramsItem(ctx.pbx, q),
      ...q.members.filter((m) => !member || m.location === member || m.name === member).map(memberListItem),
      ...entryItems(ctx.pbx, q),
    ]);
    return eventList(ctx, 'Queue status will follow', items, 'QueueStatusComplete');
  },
  QueueSummary(ctx) {
    const { pbx } = ctx;
    const items: ListItem[] = queuesFor(pbx, header(ctx, 'Queue')).map((q) => ({
      event: 'QueueSummary',
      idLast: true,
      body: [
        ['Queue', q.cfg.name],
        ['LoggedIn', String(q.members.filter((m) => m.status !== 5).length)],
        ['Available', String(q.members.filter((m) => !m.paused && m.status === 1 && !m.inCall).length)],
        ['Callers', String(q.callers.length)],
        ['HoldTime', String(q.holdtime)],
        ['TalkTime', String(q.talktime)],
        ['LongestHoldTime', String(q.callers.length ? Math.floor((pbx.now() - Math.min(...q.callers.map((c) => c.joinedAt))) / 1000) : 0)],
      ],
    }));
    return eventList(ctx, 'Queue summary will follow', items, 'QueueSummaryComplete');
  },
  QueuePause(ctx) {
    const iface = header(ctx, 'Interface');
    const paused = header(ctx, 'Paused');
    if (!iface || paused === undefined) return failure(ctx, "Need 'Interface' and 'Paused' parameters.");
    const members = membersAt(ctx.pbx, iface, header(ctx, 'Queue'));
    if (members.length === 0) return failure(ctx, 'Interface not found');
    const on = isTrue(paused);
    const reason = ctx.msg.get('Reason') ?? '';
    // set_member_paused: without a Queue, PAUSEALL/UNPAUSEALL (queue NONE) comes before the first member's line.
    const first = members[0] as Member;
    if (!header(ctx, 'Queue')) ctx.pbx.queueLog('NONE', 'NONE', first.name, on ? 'PAUSEALL' : 'UNPAUSEALL', [reason]);
    for (const m of members) ctx.pbx.pauseMember(m, on, reason);
    return [success(ctx, [['Message', on ? 'Interface paused successfully' : 'Interface unpaused successfully']])];
  },
  QueueAdd(ctx) {
    const queue = header(ctx, 'Queue');
    const iface = header(ctx, 'Interface');
    if (!queue || !iface) return failure(ctx, "'Queue' and 'Interface' are required.");
    const q = ctx.pbx.queues.get(queue);
    if (!q) return failure(ctx, 'Unable to add interface to queue: No such queue');
    if (q.members.some((m) => m.location === iface)) return failure(ctx, 'Unable to add interface: Already there');
    const penalty = Number.parseInt(header(ctx, 'Penalty') ?? '0', 10) || 0;
    const memberName = header(ctx, 'MemberName');
    const paused = isTrue(header(ctx, 'Paused'));
    ctx.pbx.addMember(q, {
      name: memberName ?? iface,
      location: iface,
      stateInterface: header(ctx, 'StateInterface') ?? iface,
      penalty,
      paused,
      pausedReason: paused ? (ctx.msg.get('Reason') ?? '') : '',
    });
    // manager_add_queue_member: callid MANAGER; the agent is the interface unless
    // log_membername_as_agent is set and a MemberName was given.
    const agent = memberName !== undefined && ctx.pbx.queueLogOptions.logMembernameAsAgent ? memberName : iface;
    ctx.pbx.queueLog(queue, 'MANAGER', agent, 'ADDMEMBER', [paused ? 'PAUSED' : '']);
    return [success(ctx, [['Message', 'Added interface to queue']])];
  },
  QueueRemove(ctx) {
    const queue = header(ctx, 'Queue');
    const iface = header(ctx, 'Interface');
    if (!queue || !iface) return failure(ctx, 'Need queue and interface to remove member.');
    const q = ctx.pbx.queues.get(queue);
    if (!q) return failure(ctx, 'Unable to remove interface from queue: No such queue');
    const m = q.members.find((x) => x.location === iface);
    if (!m) return failure(ctx, 'Unable to remove interface: Not there');
    // queues.conf members cannot be removed by AMI (app_queue answers RES_NOT_DYNAMIC).
    if (m.membership === 'static') return failure(ctx, 'Member not dynamic');
    q.members.splice(q.members.indexOf(m), 1);
    ctx.pbx.refreshQueueAvail();
    ctx.pbx.emit('QueueMemberRemoved', 'agent,all', ctx.pbx.memberEvent(m));
    // manager_remove_queue_member: the member's name only with log_membername_as_agent.
    ctx.pbx.queueLog(queue, 'MANAGER', ctx.pbx.queueLogOptions.logMembernameAsAgent && m.name ? m.name : iface, 'REMOVEMEMBER');
    return [success(ctx, [['Message', 'Removed interface from queue']])];
  },
  QueuePenalty(ctx) {
    const iface = header(ctx, 'Interface');
    const penalty = header(ctx, 'Penalty');
    if (!iface || penalty === undefined) return failure(ctx, "Need 'Interface' and 'Penalty' parameters.");
    const n = Number.parseInt(penalty, 10);
    if (!Number.isFinite(n) || n < 0) return failure(ctx, 'Invalid penalty');
    const members = membersAt(ctx.pbx, iface, header(ctx, 'Queue'));
    if (members.length === 0) return failure(ctx, 'Invalid interface, queuename or penalty');
    for (const m of members) m.penalty = n;
    // set_member_penalty_help_members logs PENALTY with the interface asked for, then publishes.
    for (const m of members) {
      ctx.pbx.queueLog(m.queue, 'NONE', iface, 'PENALTY', [n]);
      ctx.pbx.emit('QueueMemberPenalty', 'agent,all', ctx.pbx.memberEvent(m));
    }
    return [success(ctx, [['Message', 'Interface penalty set successfully']])];
  },
};

/** `queue show [name]`, in app_queue's layout. */
export function queueShowLines(pbx: Pbx, name: string | undefined): string[] {
  const out: string[] = [];
  for (const q of queuesFor(pbx, name)) {
    out.push(
      `${q.cfg.name} has ${q.callers.length} calls (max unlimited) in '${q.cfg.strategy}' strategy (${q.holdtime}s holdtime, ${q.talktime}s talktime), W:0, C:${q.completed}, A:${q.abandoned}, SL:0.0%, SL2:0.0% within 0s`,
    );
    out.push('   Members: ');
    for (const m of q.members) {
      const state = { 1: 'Not in use', 2: 'In use', 5: 'Unavailable', 6: 'Ringing', 7: 'Ring+Inuse', 8: 'On Hold' }[m.status] ?? 'Unknown';
      const dyn = m.membership === 'dynamic' ? ' (dynamic)' : '';
      const paused = m.paused ? ` (paused${m.pausedReason ? `:${m.pausedReason}` : ''})` : '';
      const taken = m.callsTaken ? `has taken ${m.callsTaken} calls` : 'has taken no calls yet';
      const iface = m.stateInterface !== m.location ? ` from ${m.stateInterface}` : '';
      out.push(
        `      ${m.name} (${m.location}${iface})${dyn} (ringinuse disabled)${paused} (${state}) ${taken} (login was ${Math.floor(pbx.now() / 1000) - m.loginTime} secs ago)`,
      );
    }
    if (q.callers.length === 0) out.push('   No Callers');
    else {
      out.push('   Callers: ');
      q.callers.forEach((e, i) => {
        out.push(`      ${i + 1}. ${e.ch.name} (wait: ${Math.floor((pbx.now() - e.joinedAt) / 1000)}s, prio: 0)`);
      });
    }
    out.push('');
  }
  if (out.length === 0 && name) out.push(`No such queue: ${name}.`);
  return out;
}
