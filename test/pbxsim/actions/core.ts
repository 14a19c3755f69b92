import type { Channel } from '../channel.ts';
import type { Pbx } from '../pbx.ts';
import { cdrTime, epochMicros, type Pairs } from '../wire.ts';
import { databaseShow } from './database.ts';
import { peerCommandLines } from './peers.ts';
import { queueShowLines } from './queues.ts';
import { eventList, failure, header, success, type ActionContext, type ActionTable } from './reply.ts';

const hms = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
};

/** Channels newest first, as Asterisk's channel container iterates them in the recordings. */
function liveChannels(pbx: Pbx): Channel[] {
  return [...pbx.channels.values()].reverse();
}

function bridgePeer(ch: Channel): Channel | undefined {
  return ch.bridge?.channels.find((c) => c !== ch);
}

export const coreActions: ActionTable = {
  Ping(ctx) {
    return [success(ctx, [['Ping', 'Pong'], ['Timestamp', epochMicros(ctx.pbx.now())]])];
  },
  CoreSettings(ctx) {
    return [
      success(ctx, [
        ['AMIversion', '9.0.0'],
        ['AsteriskVersion', ctx.pbx.version],
        ['SystemName', ''],
        ['CoreMaxCalls', '0'],
        ['CoreMaxLoadAvg', '0.000000'],
        ['CoreRunUser', 'root'],
        ['CoreRunGroup', 'root'],
        ['CoreMaxFilehandles', '0'],
        ['CoreRealTimeEnabled', 'No'],
        ['CoreCDRenabled', 'Yes'],
        ['CoreHTTPenabled', 'No'],
        ['SoundsSearchCustomDir', 'No'],
      ]),
    ];
  },
  CoreStatus(ctx) {
    const [date, time] = cdrTime(ctx.pbx.startedAt).split(' ') as [string, string];
    return [
      success(ctx, [
        ['CoreStartupDate', date],
        ['CoreStartupTime', time],
        ['CoreReloadDate', date],
        ['CoreReloadTime', time],
        ['CoreCurrentCalls', String(ctx.pbx.channels.size)],
        ['CoreProcessedCalls', String(ctx.pbx.processedCalls)],
      ]),
    ];
  },
  CoreShowChannels(ctx) {
    const now = ctx.pbx.now();
    const items = liveChannels(ctx.pbx).map((ch) => ({
      event: 'CoreShowChannel',
      body: [
        ...ch.snapshot(),
        ['Application', ch.app],
        ['ApplicationData', ch.appData],
        ['Duration', hms(now - ch.createdAt)],
        ['BridgeId', ch.bridge?.id ?? ''],
      ] as Pairs,
    }));
    return eventList(ctx, 'Channels will follow', items, 'CoreShowChannelsComplete');
  },
  Status(ctx) {
    const name = header(ctx, 'Channel');
    let chans = liveChannels(ctx.pbx);
    if (name) {
      const ch = ctx.pbx.channels.get(name);
      if (!ch) return failure(ctx, 'No such channel');
      chans = [ch];
    }
    const now = ctx.pbx.now();
    const items = chans.map((ch) => {
      const peer = bridgePeer(ch);
      return {
        event: 'Status',
        privilege: 'Call',
        idLast: true,
        body: [
          ...ch.snapshot(),
          ['Type', ch.name.split('/')[0] ?? ''],
          ['DNID', ch.outbound || !ch.device ? '' : ch.exten],
          ['EffectiveConnectedLineNum', peer?.callerNum ?? ch.connectedNum],
          ['EffectiveConnectedLineName', peer?.callerName ?? ch.connectedName],
          ['TimeToHangup', '0'],
          ['BridgeID', ch.bridge?.id ?? ''],
          ['Application', ch.app],
          ['Data', ch.appData],
          ['Nativeformats', '(ulaw)'],
          ['Readformat', 'ulaw'],
          ['Readtrans', ''],
          ['Writeformat', 'ulaw'],
          ['Writetrans', ''],
          ['Callgroup', '0'],
          ['Pickupgroup', '0'],
          ['Seconds', String(Math.floor((now - ch.createdAt) / 1000))],
        ] as Pairs,
      };
    });
    return eventList(ctx, 'Channel status will follow', items, 'StatusComplete', [['Items', String(items.length)]]);
  },
  Getvar(ctx) {
    const variable = header(ctx, 'Variable');
    if (!variable) return failure(ctx, 'No variable specified');
    const chName = header(ctx, 'Channel');
    let value: string;
    if (chName) {
      const ch = ctx.pbx.channels.get(chName);
      if (!ch) return failure(ctx, 'No such channel');
      value = channelVar(ctx.pbx, ch, variable);
    } else {
      value = variable === 'EPOCH' ? String(Math.floor(ctx.pbx.now() / 1000)) : (ctx.pbx.globals.get(variable) ?? '');
    }
    return [success(ctx, [['Variable', variable], ['Value', value]])];
  },
  Setvar(ctx) {
    const variable = header(ctx, 'Variable');
    if (!variable) return failure(ctx, 'No variable specified');
    const value = ctx.msg.get('Value') ?? '';
    const chName = header(ctx, 'Channel');
    if (chName) {
      const ch = ctx.pbx.channels.get(chName);
      if (!ch) return failure(ctx, 'No such channel');
      ch.vars.set(variable, value);
    } else ctx.pbx.globals.set(variable, value);
    return [success(ctx, [['Message', 'Variable Set']])];
  },
  UserEvent(ctx) {
    const name = header(ctx, 'UserEvent');
    if (!name) return failure(ctx, 'Missing UserEvent name');
    const body: Pairs = [['UserEvent', name]];
    if (ctx.id !== undefined) body.push(['ActionID', ctx.id]);
    for (const [k, v] of ctx.msg.entries()) if (!/^(Action|ActionID|UserEvent)$/i.test(k)) body.push([k, v]);
    ctx.pbx.emit('UserEvent', 'user,all', body);
    return [success(ctx, [['Message', 'Event Sent']])];
  },
  Command(ctx) {
    const command = header(ctx, 'Command');
    if (!command) return failure(ctx, 'No command provided');
    const lines = cliCommand(ctx, command.trim());
    if (!lines) {
      const words = command.trim().split(/\s+/);
      return failure(ctx, 'Command output follows', [
        ['Output', `No such command '${command.trim()}' (type 'core show help ${words.slice(0, 2).join(' ')}' for other possible commands)`],
      ]);
    }
    return [success(ctx, [['Message', 'Command output follows'], ...lines.map((l): [string, string] => ['Output', l])])];
  },
};

function channelVar(pbx: Pbx, ch: Channel, name: string): string {
  switch (name) {
    case 'CALLERID(num)':
      return ch.callerNum;
    case 'CALLERID(name)':
      return ch.callerName;
    case 'CHANNEL':
      return ch.name;
    case 'UNIQUEID':
      return ch.uniqueid;
    case 'EPOCH':
      return String(Math.floor(pbx.now() / 1000));
    default:
      return ch.vars.get(name) ?? pbx.globals.get(name) ?? '';
  }
}

/** The CLI commands the product uses; undefined for an unknown one. */
function cliCommand(ctx: ActionContext, command: string): string[] | undefined {
  const { pbx } = ctx;
  const db = /^database show(?:\s+(\S+))?$/.exec(command);
  if (db) return databaseShow(pbx.db, db[1]);
  if (command === 'core show version')
    return [`Asterisk ${pbx.version} built by root @ vm on a x86_64 running Linux on ${cdrTime(pbx.startedAt)} UTC`];
  if (command === 'core show channels concise') {
    const rows = [...pbx.channels.values()].map((ch) =>
      [ch.name, ch.context, ch.exten, ch.priority, ch.stateDesc, ch.app, ch.appData, ch.callerNum, '', '', '3', Math.floor((pbx.now() - ch.createdAt) / 1000), ch.bridge?.id ?? '', ch.uniqueid].join('!'),
    );
    return rows.length ? rows : [''];
  }
  const q = /^queue show(?:\s+(\S+))?$/.exec(command);
  if (q) return queueShowLines(pbx, q[1]);
  return peerCommandLines(pbx, command);
}
