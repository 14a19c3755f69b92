import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { AmiParser } from '../../agent/ami/parser.ts';
import type { AmiMessage } from '../../agent/ami/message.ts';
import type { Transcript } from './transcript.ts';

export interface ScriptedSession {
  socket: Socket;
  /** Every action this connection received, in order. */
  actions: AmiMessage[];
  /** Raw bytes received before the first complete action, to prove nothing was sent early. */
  write(text: string | Buffer): void;
}

export type ActionHandler = (action: AmiMessage, session: ScriptedSession) => void;

/**
 * A tiny AMI server over real TCP for client tests: a banner, then a handler per action. The
 * transcript replay answers each action with what real Asterisk answered to the same action.
 */
export class ScriptedAmiServer {
  readonly sessions: ScriptedSession[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  refuse = false;

  private constructor(
    private handler: ActionHandler,
    private readonly banner: string,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  static async start(handler: ActionHandler, banner = 'Asterisk Call Manager/9.0.0\r\n'): Promise<ScriptedAmiServer> {
    const s = new ScriptedAmiServer(handler, banner);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  setHandler(handler: ActionHandler): void {
    this.handler = handler;
  }

  /** Resets every open connection, as a PBX reboot or a network cut would. */
  dropAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.refuse) {
      socket.resetAndDestroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new AmiParser();
    const session: ScriptedSession = {
      socket,
      actions: [],
      write: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
    };
    this.sessions.push(session);
    socket.on('data', (chunk: Buffer) => {
      for (const f of parser.push(chunk)) {
        if (f.kind !== 'message') continue;
        session.actions.push(f.message);
        this.handler(f.message, session);
      }
    });
    if (this.banner) socket.write(this.banner);
  }
}

/**
 * Replays a recorded session: the n-th action received gets the server bytes that followed the n-th
 * recorded action, with the recorded ActionIDs rewritten to the client's own. A mismatched action is
 * answered with an Error naming the mismatch, so the test fails visibly.
 */
export function replayHandler(t: Transcript, options: { chunkSize?: number } = {}): ActionHandler {
  const steps = t.steps.slice(1);
  const idMap = new Map<string, string>();
  let next = 0;
  return (action, session) => {
    const step = steps[next++];
    const recorded = step ? new AmiParser().push(step.client).flatMap((f) => (f.kind === 'message' ? [f.message] : []))[0] : undefined;
    if (!step || !recorded || recorded.get('Action') !== action.get('Action')) {
      session.write(`Response: Error\r\nActionID: ${action.actionId ?? ''}\r\nMessage: replay expected ${recorded?.get('Action') ?? 'nothing'} but got ${action.get('Action')}\r\n\r\n`);
      return;
    }
    const rid = recorded.actionId;
    if (rid && action.actionId) idMap.set(rid, action.actionId);
    const text = step.server.replace(/^ActionID: (.*)$/gm, (line, id: string) => {
      const mapped = idMap.get(id);
      return mapped ? `ActionID: ${mapped}` : line;
    });
    const bytes = Buffer.from(text, 'utf8');
    const size = options.chunkSize ?? bytes.length;
    for (let i = 0; i < bytes.length; i += size) session.write(bytes.subarray(i, i + size));
  };
}
