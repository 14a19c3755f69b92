import { createHash, randomInt } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';
import { header, type ActionContext, type ActionTable, type Reply } from './actions/reply.ts';
import type { Pbx, SimEvent } from './pbx.ts';
import { olderThan } from './config.ts';
import { encodeMessage, epochMicros, eventTv, type Pairs } from './wire.ts';

/** Headers Asterisk 13.8 and later write that older versions lack (queue members' pause reason, ...). */
const SINCE_13_8 = new Set(['PausedReason', 'Wrapuptime', 'LoginTime', 'TechCause']);

const BANNER = 'Asterisk Call Manager/9.0.0\r\n';

export interface AmiServerOptions {
  pbx: Pbx;
  user: string;
  secret: string;
  /** manager.conf timestampevents=yes: a `Timestamp:` header on every event. */
  timestampEvents: boolean;
  actions: ActionTable;
  /** Every action received, before it runs. */
  onAction(msg: AmiMessage): void;
}

interface Session {
  socket: Socket;
  parser: AmiParser;
  authed: boolean;
  /** null: no events; 'all'; or the classes asked for in `Events: call,agent`. */
  events: null | 'all' | Set<string>;
  challenge: string | undefined;
  id: string;
}

const PUBLIC_ACTIONS = new Set(['login', 'challenge', 'logoff']);

/** The AMI side of the simulator: TCP sessions, login, dispatch, and event fan-out. */
export class AmiServer {
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly handlers = new Map<string, ActionTable[string]>();
  private readonly stalled = new Map<string, (() => void)[]>();
  private refusing = false;
  /** Events raised while an action runs wait until its response is written, as in Asterisk. */
  private holding = 0;
  private held: SimEvent[] = [];
  private sessionSeq = 0;
  private readonly offEvents: () => void;

  constructor(private readonly o: AmiServerOptions) {
    for (const [name, h] of Object.entries(o.actions)) this.handlers.set(name.toLowerCase(), h);
    this.server = createServer((socket) => this.accept(socket));
    this.offEvents = o.pbx.onEvent((e) => (this.holding > 0 ? this.held.push(e) : this.broadcast(e)));
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Holds every `actionName` action unanswered until the returned release is called. */
  stall(actionName: string): () => void {
    const key = actionName.toLowerCase();
    if (!this.stalled.has(key)) this.stalled.set(key, []);
    return () => {
      const waiting = this.stalled.get(key) ?? [];
      this.stalled.delete(key);
      for (const run of waiting) run();
    };
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  dropConnections(): void {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
  }

  close(): Promise<void> {
    this.offEvents();
    this.stalled.clear();
    this.dropConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.refusing) {
      socket.destroy();
      return;
    }
    const s: Session = { socket, parser: new AmiParser(), authed: false, events: null, challenge: undefined, id: `0x${(0x7f0000000000 + ++this.sessionSeq * 0x1000).toString(16)}` };
    this.sessions.add(s);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sessions.delete(s));
    socket.on('data', (chunk) => {
      let frames;
      try {
        frames = s.parser.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) if (f.kind === 'message') this.onMessage(s, f.message);
    });
    socket.write(BANNER);
  }

  private write(s: Session, pairs: Pairs): void {
    if (!s.socket.destroyed && s.socket.writable) s.socket.write(this.encode(pairs));
  }

  /** The one place messages become bytes: an older Asterisk's missing headers are dropped here. */
  private encode(pairs: Pairs): string {
    return encodeMessage(this.old ? pairs.filter(([k]) => !SINCE_13_8.has(k)) : pairs);
  }

  private get old(): boolean {
    return olderThan(this.o.pbx.version, 13, 8);
  }

  private eventPairs(e: SimEvent): Pairs {
    const head: Pairs = [
      ['Event', e.event],
      ['Privilege', e.privilege],
    ];
    if (this.o.timestampEvents) head.push(['Timestamp', epochMicros(this.o.pbx.now())]);
    return [...head, ...e.body];
  }

  private wants(s: Session, e: SimEvent): boolean {
    if (!s.authed || s.events === null) return false;
    if (s.events === 'all') return true;
    const classes = s.events;
    return e.privilege.split(',').some((c) => c !== 'all' && classes.has(c));
  }

  private broadcast(e: SimEvent): void {
    let bytes: string | undefined;
    for (const s of this.sessions) {
      if (!this.wants(s, e) || s.socket.destroyed) continue;
      bytes ??= this.encode(this.eventPairs(e));
      s.socket.write(bytes);
    }
  }

  private flush(): void {
    if (this.holding > 0) return;
    const out = this.held;
    this.held = [];
    for (const e of out) this.broadcast(e);
  }

  private onMessage(s: Session, msg: AmiMessage): void {
    this.o.onAction(msg);
    const ctx: ActionContext = { pbx: this.o.pbx, msg, id: msg.get('ActionID') };
    const action = header(ctx, 'Action')?.trim();
    if (!action) {
      this.reply(s, [[['Response', 'Error'], ...(ctx.id === undefined ? [] : ([['ActionID', ctx.id]] as Pairs)), ['Message', 'Missing action in request']]]);
      return;
    }
    const key = action.toLowerCase();
    const queue = this.stalled.get(key);
    if (queue) {
      queue.push(() => this.dispatch(s, ctx, action, key));
      return;
    }
    this.dispatch(s, ctx, action, key);
  }

  private dispatch(s: Session, ctx: ActionContext, action: string, key: string): void {
    if (s.socket.destroyed) return;
    const idPair: Pairs = ctx.id === undefined ? [] : [['ActionID', ctx.id]];
    if (!s.authed && !PUBLIC_ACTIONS.has(key)) {
      this.reply(s, [[['Response', 'Error'], ...idPair, ['Message', 'Permission denied']]]);
      return;
    }
    switch (key) {
      case 'login':
        return this.login(s, ctx, idPair);
      case 'challenge': {
        if ((header(ctx, 'AuthType') ?? '').toLowerCase() !== 'md5') {
          this.reply(s, [[['Response', 'Error'], ...idPair, ['Message', 'Must specify AuthType']]]);
          return;
        }
        s.challenge ??= String(randomInt(100_000_000, 999_999_999));
        this.reply(s, [[['Response', 'Success'], ...idPair, ['Challenge', s.challenge]]]);
        return;
      }
      case 'logoff':
        this.reply(s, [[['Response', 'Goodbye'], ...idPair, ['Message', 'Thanks for all the fish.']]]);
        s.socket.end();
        return;
    }
    const handler = this.handlers.get(key);
    if (!handler) {
      this.reply(s, [[['Response', 'Error'], ...idPair, ['Message', `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`]]]);
      return;
    }
    this.holding++;
    let result: Reply | Promise<Reply>;
    try {
      result = handler(ctx);
    } catch (e) {
      result = [[['Response', 'Error'], ...idPair, ['Message', e instanceof Error ? e.message : String(e)]]];
    }
    if (result instanceof Promise) {
      this.holding--;
      this.flush();
      result.then(
        (r) => this.reply(s, r),
        (e: unknown) => this.reply(s, [[['Response', 'Error'], ...idPair, ['Message', e instanceof Error ? e.message : String(e)]]]),
      );
      return;
    }
    this.reply(s, result);
    this.holding--;
    this.flush();
  }

  private reply(s: Session, messages: Reply): void {
    for (const m of messages) this.write(s, m);
  }

  private login(s: Session, ctx: ActionContext, idPair: Pairs): void {
    const user = header(ctx, 'Username');
    const key = header(ctx, 'Key');
    const md5 = (header(ctx, 'AuthType') ?? '').toLowerCase() === 'md5';
    let ok = user === this.o.user;
    if (ok && md5) {
      // manager.c: Key = md5(challenge + secret), in lower-case hex.
      const want = s.challenge === undefined ? undefined : createHash('md5').update(s.challenge + this.o.secret).digest('hex');
      ok = want !== undefined && key?.toLowerCase() === want;
    } else if (ok) ok = (ctx.msg.get('Secret') ?? '') === this.o.secret;
    if (!ok) {
      this.reply(s, [[['Response', 'Error'], ...idPair, ['Message', 'Authentication failed']]]);
      s.socket.end();
      return;
    }
    s.authed = true;
    const events = (header(ctx, 'Events') ?? 'on').trim().toLowerCase();
    s.events = events === 'off' || events === 'no' ? null : events === 'on' || events === 'yes' || events === 'all' ? 'all' : new Set(events.split(','));
    this.reply(s, [[['Response', 'Success'], ...idPair, ['Message', 'Authentication accepted']]]);
    const now = this.o.pbx.now();
    const uptime = String(Math.floor((now - this.o.pbx.startedAt) / 1000));
    const booted: SimEvent = {
      event: 'FullyBooted',
      privilege: 'system,all',
      body: [
        ['Uptime', uptime],
        ['LastReload', uptime],
        ['Status', 'Fully Booted'],
      ],
    };
    if (this.wants(s, booted)) this.write(s, this.eventPairs(booted));
    const local = s.socket.address() as AddressInfo;
    const tv = eventTv(now);
    this.o.pbx.emit('SuccessfulAuth', 'security,all', [
      ['EventTV', tv],
      ['Severity', 'Informational'],
      ['Service', 'AMI'],
      ['EventVersion', '1'],
      ['AccountID', this.o.user],
      ['SessionID', s.id],
      ['LocalAddress', `IPV4/TCP/${local.address}/${local.port}`],
      ['RemoteAddress', `IPV4/TCP/${s.socket.remoteAddress ?? ''}/${s.socket.remotePort ?? 0}`],
      ['UsingPassword', '0'],
      ['SessionTV', tv],
    ]);
  }
}
