import { createHash } from 'node:crypto';
import type { Driver, PhoneConfig } from '../config.ts';
import type { Pbx } from '../pbx.ts';
import { PJSIP_SHOW_ENDPOINT, SIP_SHOW_PEER } from '../peer-templates.ts';
import type { Pairs } from '../wire.ts';
import { eventList, failure, header, success, type ActionTable, type ListItem } from './reply.ts';

const PHONE_ADDR = '127.0.0.1';
const PHONE_PORT = '5070';

/** Puts a peer's number (and caller ID) where the recorded template has 800's. */
function forPeer(pairs: Pairs, p: PhoneConfig): Pairs {
  return pairs.map(([k, v]): [string, string] => {
    if (k === 'Callerid') return [k, `"${p.name}" <${p.ext}>`];
    return [k, v.replace(/(?<![0-9])800(?![0-9])/g, p.ext)];
  });
}

const contactHash = (ext: string) => createHash('md5').update(`contact-${ext}`).digest('hex');
const contactUri = (ext: string) => `sip:${ext}@${PHONE_ADDR}:${PHONE_PORT}`;

const DEVICE_TEXT: Record<string, string> = {
  NOT_INUSE: 'Not in use',
  INUSE: 'In use',
  RINGING: 'Ringing',
  RINGINUSE: 'Ring+Inuse',
  ONHOLD: 'On Hold',
  UNAVAILABLE: 'Unavailable',
};

function activeChannels(pbx: Pbx, ext: string): number {
  return [...pbx.channels.values()].filter((c) => c.device === pbx.deviceOf(ext)).length;
}

/**
 * The peers (chan_sip) or endpoints (PJSIP) of one driver: its phones, then its trunks, which are
 * always registered (sip.conf `[trunk]`, added for recordings 33-40).
 */
function peersOf(pbx: Pbx, d: Driver): PhoneConfig[] {
  const trunks = pbx.trunks
    .filter((t) => pbx.driverOf(t) === d)
    .map((t): PhoneConfig => ({ ext: t, name: t, registered: true, answerAfterMs: null, busy: false, hangupAfterMs: null }));
  return [...pbx.phonesOf(d), ...trunks];
}

/** chan_sip's peer actions. */
export const sipActions: ActionTable = {
  SIPpeers(ctx) {
    const items: ListItem[] = peersOf(ctx.pbx, 'sip').map((p) => ({
      event: 'PeerEntry',
      body: [
        ['Channeltype', 'SIP'],
        ['ObjectName', p.ext],
        ['ChanObjectType', 'peer'],
        ['IPaddress', p.registered ? PHONE_ADDR : '-none-'],
        ['IPport', p.registered ? PHONE_PORT : '0'],
        ['Dynamic', 'yes'],
        ['AutoForcerport', 'no'],
        ['Forcerport', 'no'],
        ['AutoComedia', 'no'],
        ['Comedia', 'no'],
        ['VideoSupport', 'no'],
        ['TextSupport', 'no'],
        ['ACL', 'no'],
        ['Status', p.registered ? 'OK (1 ms)' : 'UNKNOWN'],
        ['RealtimeDevice', 'no'],
        ['Description', ''],
        ['Accountcode', ''],
      ],
    }));
    return eventList(ctx, 'Peer status list will follow', items, 'PeerlistComplete');
  },
  SIPshowpeer(ctx) {
    const peer = header(ctx, 'Peer');
    if (!peer) return failure(ctx, 'Peer: <name> missing.');
    const p = peersOf(ctx.pbx, 'sip').find((x) => x.ext === peer);
    if (!p) return failure(ctx, `Peer ${peer} not found.`);
    const body = forPeer(SIP_SHOW_PEER, p).map(([k, v]): [string, string] => {
      if (p.registered) return [k, v];
      if (k === 'Address-IP') return [k, '(null)'];
      if (k === 'Address-Port' || k === 'RegExpire') return [k, k === 'RegExpire' ? '-1 seconds' : '0'];
      if (k === 'Status') return [k, 'UNKNOWN'];
      if (k === 'Reg-Contact' || k === 'SIP-Useragent') return [k, ''];
      return [k, v];
    });
    return [success(ctx, body)];
  },
  SIPshowregistry(ctx) {
    // chan_sip writes a stray blank line before this response (fixtures chan_sip/06); the parser skips it.
    return eventList(ctx, 'Registrations will follow', [], 'RegistrationsComplete');
  },
};

/** res_pjsip's endpoint and contact actions. */
export const pjsipActions: ActionTable = {
  PJSIPShowEndpoints(ctx) {
    const { pbx } = ctx;
    const items: ListItem[] = peersOf(pbx, 'pjsip').map((p) => ({
      event: 'EndpointList',
      body: [
        ['ObjectType', 'endpoint'],
        ['ObjectName', p.ext],
        ['Transport', 'transport-udp'],
        ['Aor', p.ext],
        ['Auths', p.ext],
        ['OutboundAuths', ''],
        ['Contacts', p.registered ? `${p.ext}/${contactUri(p.ext)},` : ''],
        ['DeviceState', DEVICE_TEXT[pbx.deviceState(`PJSIP/${p.ext}`).name] ?? 'Unknown'],
        ['ActiveChannels', String(activeChannels(pbx, p.ext))],
      ],
    }));
    return eventList(ctx, 'A listing of Endpoints follows, presented as EndpointList events', items, 'EndpointListComplete');
  },
  PJSIPShowEndpoint(ctx) {
    const name = header(ctx, 'Endpoint');
    if (!name) return failure(ctx, 'Endpoint parameter missing.');
    const p = peersOf(ctx.pbx, 'pjsip').find((x) => x.ext === name);
    if (!p) return failure(ctx, `Unable to retrieve endpoint ${name}`);
    const state = DEVICE_TEXT[ctx.pbx.deviceState(`PJSIP/${p.ext}`).name] ?? 'Unknown';
    const items: ListItem[] = PJSIP_SHOW_ENDPOINT.filter((d) => p.registered || d.event !== 'ContactStatusDetail').map((d) => ({
      event: d.event,
      body: forPeer(d.pairs, p).map(([k, v]): [string, string] => {
        if (d.event === 'EndpointDetail' && k === 'DeviceState') return [k, state];
        if (d.event === 'EndpointDetail' && k === 'ActiveChannels') return [k, String(activeChannels(ctx.pbx, p.ext))];
        if (k === 'ID') return [k, `${p.ext};@${contactHash(p.ext)}`];
        if (d.event === 'AorDetail' && !p.registered) {
          if (k === 'Contacts') return [k, ''];
          if (k === 'TotalContacts' || k === 'ContactsRegistered') return [k, '0'];
          if (k === 'Status') return [k, 'Unavailable'];
        }
        return [k, v];
      }),
    }));
    return eventList(ctx, 'Following are Events for each object associated with the Endpoint', items, 'EndpointDetailComplete');
  },
  PJSIPShowContacts(ctx) {
    const exp = String(Math.floor(ctx.pbx.now() / 1000) + 3600);
    const items: ListItem[] = peersOf(ctx.pbx, 'pjsip')
      .filter((p) => p.registered)
      .map((p) => ({
        event: 'ContactList',
        body: [
          ['ObjectType', 'contact'],
          ['ObjectName', `${p.ext};@${contactHash(p.ext)}`],
          ['ViaAddr', PHONE_ADDR],
          ['QualifyTimeout', '3.000000'],
          ['Qualify2xxOnly', 'false'],
          ['CallId', `${contactHash(p.ext).slice(0, 16)}@${PHONE_ADDR}`],
          ['RegServer', ''],
          ['PruneOnBoot', 'no'],
          ['Path', ''],
          ['Endpoint', p.ext],
          ['ViaPort', PHONE_PORT],
          ['AuthenticateQualify', 'no'],
          ['Uri', contactUri(p.ext)],
          ['QualifyFrequency', '60'],
          ['UserAgent', 'astpeer-ua/1.0'],
          ['ExpirationTime', exp],
          ['OutboundProxy', ''],
          ['Status', 'Reachable'],
          ['RoundtripUsec', '527'],
        ],
      }));
    return eventList(ctx, 'A listing of Contacts follows, presented as ContactList events', items, 'ContactListComplete');
  },
};

/** `sip show peers` / `pjsip show endpoints`, for the driver in use; undefined for other commands. */
export function peerCommandLines(pbx: Pbx, command: string): string[] | undefined {
  if (command === 'sip show peers' && pbx.hasDriver('sip')) {
    const phones = peersOf(pbx, 'sip');
    const row = (name: string, host: string, port: string, status: string) =>
      `${name.padEnd(25)} ${host.padEnd(39)}  D  No         No             ${port.padEnd(8)} ${status.padEnd(44)} `;
    const online = phones.filter((p) => p.registered).length;
    return [
      'Name/username             Host                                    Dyn Forcerport Comedia    ACL Port     Status      Description                      ',
      ...phones.map((p) => (p.registered ? row(`${p.ext}/${p.ext}`, PHONE_ADDR, PHONE_PORT, 'OK (1 ms)') : row(p.ext, '(Unspecified)', '0', 'UNKNOWN'))),
      `${phones.length} sip peers [Monitored: ${online} online, ${phones.length - online} offline Unmonitored: 0 online, 0 offline]`,
    ];
  }
  if (command === 'pjsip show endpoints' && pbx.hasDriver('pjsip')) {
    const phones = peersOf(pbx, 'pjsip');
    const out = [
      '',
      ' Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>',
      '    I/OAuth:  <AuthId/UserName...........................................................>',
      '        Aor:  <Aor............................................>  <MaxContact>',
      '      Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>',
      '  Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress..................>',
      '   Identify:  <Identify/Endpoint.........................................................>',
      '        Match:  <criteria.........................>',
      '    Channel:  <ChannelId......................................>  <State.....>  <Time.....>',
      '        Exten: <DialedExten...........>  CLCID: <ConnectedLineCID.......>',
      '==========================================================================================',
      '',
    ];
    for (const p of phones) {
      const state = DEVICE_TEXT[pbx.deviceState(`PJSIP/${p.ext}`).name] ?? 'Unknown';
      out.push(` Endpoint:  ${`${p.ext}/${p.ext}`.padEnd(53)}${state.padEnd(14)}${activeChannels(pbx, p.ext)} of inf`);
      out.push(`     InAuth:  ${p.ext}/${p.ext}`);
      out.push(`        Aor:  ${p.ext.padEnd(51)}1`);
      if (p.registered) out.push(`      Contact:  ${`${p.ext}/${contactUri(p.ext)}`.padEnd(43)}${contactHash(p.ext).slice(0, 10)} Avail         0.716`);
      out.push('  Transport:  transport-udp             udp      0      0  127.0.0.1:5060', '');
    }
    out.push('', `Objects found: ${phones.length}`, '');
    return out;
  }
  return undefined;
}
