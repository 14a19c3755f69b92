import { connect, type Socket } from 'node:net';
import type { AmiMessage } from '../../agent/ami/message.ts';
import { AmiParser } from '../../agent/ami/parser.ts';

/** A bare AMI connection for the simulator's tests: raw writes in, parsed frames out, waits on conditions. */
export class AmiTestClient {
  readonly messages: AmiMessage[] = [];
  banner: string | undefined;
  closed = false;
  private readonly parser = new AmiParser({ expectBanner: true });
  private readonly waiters = new Set<() => void>();
  private seq = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const f of this.parser.push(chunk)) {
        if (f.kind === 'banner') this.banner = f.banner;
        else this.messages.push(f.message);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number, host = '127.0.0.1'): Promise<AmiTestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new AmiTestClient(socket));
      });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when cond() holds; rejects after timeoutMs (real time) saying what it waited for. */
  until<T>(cond: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = cond();
        if (v !== undefined && v !== false) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  writeRaw(text: string): void {
    this.socket.write(text);
  }

  /** Sends an action with a fresh ActionID and resolves with its response (and list events up to Complete). */
  async action(fields: Record<string, string | string[]>): Promise<{ response: AmiMessage; events: AmiMessage[] }> {
    const id = `t-${++this.seq}`;
    let text = `Action: ${fields.Action}\r\nActionID: ${id}\r\n`;
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'Action') continue;
      for (const x of Array.isArray(v) ? v : [v]) text += `${k}: ${x}\r\n`;
    }
    const from = this.messages.length;
    this.writeRaw(`${text}\r\n`);
    const response = await this.until(() => this.messages.slice(from).find((m) => m.actionId === id && m.response !== undefined && m.event === undefined), `response to ${fields.Action}`);
    if (response.get('EventList') !== 'start') return { response, events: [] };
    await this.until(() => this.messages.slice(from).some((m) => m.actionId === id && m.get('EventList') === 'Complete'), `end of ${fields.Action} list`);
    return { response, events: this.messages.slice(from).filter((m) => m.actionId === id && m.event !== undefined) };
  }

  async login(user: string, secret: string, events = 'on'): Promise<AmiMessage> {
    return (await this.action({ Action: 'Login', Username: user, Secret: secret, Events: events })).response;
  }

  /** Waits for an event by name (and optional header match) among messages from index `from` on. */
  event(name: string, match: Record<string, string> = {}, from = 0, timeoutMs = 5000): Promise<AmiMessage> {
    return this.until(
      () => this.messages.slice(from).find((m) => m.event === name && Object.entries(match).every(([k, v]) => m.get(k) === v)),
      `event ${name} ${JSON.stringify(match)}`,
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.destroy();
    await this.until(() => this.closed, 'socket close');
  }
}
