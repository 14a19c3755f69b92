import { StringDecoder } from 'node:string_decoder';
import { AmiMessage } from './message.ts';

/** What the parser hands out: the banner once per connection, then messages. */
export type AmiFrame = { kind: 'banner'; banner: string; version: string } | { kind: 'message'; message: AmiMessage };

export class AmiProtocolError extends Error {
  readonly code = 'AMI_PROTOCOL';
}

export interface AmiParserOptions {
  /** Longest line accepted; a peer that never sends a line end must not grow memory without bound. */
  maxLineBytes?: number;
  /** Most headers in one message (Command output of a big CLI command is the largest real case). */
  maxHeaders?: number;
  /** Expect the `Asterisk Call Manager/x.y.z` banner as the first line (client side). */
  expectBanner?: boolean;
}

const BANNER = /^Asterisk Call Manager\/(\S+)/;
const END_COMMAND = '--END COMMAND--';

/**
 * Streaming AMI parser: feed it raw socket chunks in any split, get whole messages.
 *
 * UTF-8 is decoded with a StringDecoder so a multi-byte character (a Chinese caller name) split across
 * TCP chunks survives. Lines end with CRLF (a bare LF is tolerated); a blank line ends a message and
 * stray blank lines between messages are skipped (chan_sip's SIPshowregistry sends one).
 *
 * Asterisk before 14 answers the Command action with `Response: Follows`, then raw output lines and
 * `--END COMMAND--`; the output may hold blank lines and colons, so in that mode only the end marker
 * ends the message. Its lines are returned as repeated `Output` headers, the shape newer Asterisk uses.
 */
export class AmiParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private current: AmiMessage | null = null;
  private headerCount = 0;
  private follows = false;
  private awaitingBanner: boolean;
  private readonly maxLine: number;
  private readonly maxHeaders: number;

  constructor(options: AmiParserOptions = {}) {
    this.maxLine = options.maxLineBytes ?? 1024 * 1024;
    this.maxHeaders = options.maxHeaders ?? 100_000;
    this.awaitingBanner = options.expectBanner ?? false;
  }

  /** Parses one chunk and returns the frames it completed. Throws AmiProtocolError on a bound breach. */
  push(chunk: Buffer | string): AmiFrame[] {
    const out: AmiFrame[] = [];
    this.feed(chunk, out);
    return out;
  }

  /** Same as push, appending into the caller's array to avoid an allocation per chunk. */
  feed(chunk: Buffer | string, out: AmiFrame[]): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const buf = this.pending.length === 0 ? text : this.pending + text;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(buf, start, end, out);
      start = nl + 1;
    }
    this.pending = start === 0 ? buf : buf.slice(start);
    if (this.pending.length > this.maxLine) {
      this.pending = '';
      throw new AmiProtocolError(`AMI line longer than ${this.maxLine} bytes without a line end`);
    }
  }

  /** Drops partial state, e.g. after a reconnect. */
  reset(expectBanner = this.awaitingBanner): void {
    this.pending = '';
    this.current = null;
    this.headerCount = 0;
    this.follows = false;
    this.awaitingBanner = expectBanner;
    this.decoder.end();
  }

  private line(buf: string, start: number, end: number, out: AmiFrame[]): void {
    if (this.follows) {
      this.followsLine(buf.slice(start, end), out);
      return;
    }
    if (end === start) {
      if (this.current) this.finish(out);
      return;
    }
    if (this.awaitingBanner && !this.current) {
      const line = buf.slice(start, end);
      const m = BANNER.exec(line);
      if (m) {
        this.awaitingBanner = false;
        out.push({ kind: 'banner', banner: line, version: m[1] as string });
        return;
      }
    }
    const colon = buf.indexOf(':', start);
    const msg = (this.current ??= new AmiMessage());
    if (colon === -1 || colon >= end) {
      // A line with no colon is not a header; keep it visible instead of dropping bytes silently.
      msg.add('__line', buf.slice(start, end));
    } else {
      const key = buf.slice(start, colon);
      const vstart = buf.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
      const value = vstart >= end ? '' : buf.slice(vstart, end);
      msg.add(key, value);
      if (this.headerCount === 0 && key === 'Response' && value === 'Follows') this.follows = true;
    }
    if (++this.headerCount > this.maxHeaders) {
      this.current = null;
      this.headerCount = 0;
      throw new AmiProtocolError(`AMI message with more than ${this.maxHeaders} headers`);
    }
  }

  /** `Response: Follows` mode: Privilege/ActionID headers, then raw output until `--END COMMAND--`. */
  private followsLine(line: string, out: AmiFrame[]): void {
    const msg = this.current as AmiMessage;
    if (!msg.has('Output') && /^(Privilege|ActionID|Message): /.test(line)) {
      const colon = line.indexOf(':');
      msg.add(line.slice(0, colon), line.slice(colon + 2));
      return;
    }
    const at = line.lastIndexOf(END_COMMAND);
    if (at !== -1 && at === line.length - END_COMMAND.length) {
      // Old Asterisk glues the marker to the last output line when that line has no newline.
      if (at > 0) msg.add('Output', line.slice(0, at));
      this.follows = false;
      this.finish(out);
      return;
    }
    msg.add('Output', line);
    if (++this.headerCount > this.maxHeaders) {
      this.current = null;
      this.follows = false;
      this.headerCount = 0;
      throw new AmiProtocolError(`AMI command output longer than ${this.maxHeaders} lines`);
    }
  }

  private finish(out: AmiFrame[]): void {
    out.push({ kind: 'message', message: this.current as AmiMessage });
    this.current = null;
    this.headerCount = 0;
  }
}
