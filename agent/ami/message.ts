/**
 * One AMI message (response, event or action) as a block of `Key: Value` lines.
 *
 * Keys keep the case Asterisk sends (`Uniqueid` in most events, `UniqueID` in Cdr): callers name them
 * exactly as the protocol does. A key can repeat (`Output:` lines of Command, a dialplan UserEvent that
 * adds a second `CallerIDNum`), so every value is kept in wire order; `get` returns the first.
 *
 * Headers live in one flat array (key, value, key, value ...): a message is built once and read a few
 * times, and a per-message hash object cost more than half of the parser's time (bench/README.md).
 * Large messages (Command output with thousands of lines) get an index on first lookup.
 */
const INDEX_ABOVE = 64;

export class AmiMessage {
  /** key, value, key, value ... in wire order. */
  readonly pairs: string[];
  private index: Map<string, number> | undefined;

  constructor(pairs: string[] = []) {
    this.pairs = pairs;
  }

  add(key: string, value: string): void {
    if (this.index && !this.index.has(key)) this.index.set(key, this.pairs.length);
    this.pairs.push(key, value);
  }

  private first(key: string): number {
    const p = this.pairs;
    if (p.length > INDEX_ABOVE) {
      if (!this.index) {
        this.index = new Map();
        for (let i = p.length - 2; i >= 0; i -= 2) this.index.set(p[i] as string, i);
      }
      return this.index.get(key) ?? -1;
    }
    for (let i = 0; i < p.length; i += 2) if (p[i] === key) return i;
    return -1;
  }

  get(key: string): string | undefined {
    const i = this.first(key);
    return i === -1 ? undefined : this.pairs[i + 1];
  }

  /** Every value of a key in wire order. */
  all(key: string): string[] {
    const i = this.first(key);
    if (i === -1) return [];
    const out: string[] = [];
    const p = this.pairs;
    for (let j = i; j < p.length; j += 2) if (p[j] === key) out.push(p[j + 1] as string);
    return out;
  }

  /** The last value of a key: a dialplan UserEvent's own header comes after the channel snapshot's. */
  last(key: string): string | undefined {
    const p = this.pairs;
    for (let i = p.length - 2; i >= 0; i -= 2) if (p[i] === key) return p[i + 1];
    return undefined;
  }

  has(key: string): boolean {
    return this.first(key) !== -1;
  }

  /** A copy with every value of the given keys replaced, in place in the wire order. */
  with(values: Record<string, string>): AmiMessage {
    const p = this.pairs.slice();
    for (let i = 0; i < p.length; i += 2) {
      const v = values[p[i] as string];
      if (v !== undefined) p[i + 1] = v;
    }
    return new AmiMessage(p);
  }

  get event(): string | undefined {
    // Event and Response are the first header of every message Asterisk sends.
    return this.pairs[0] === 'Event' ? this.pairs[1] : this.get('Event');
  }

  get response(): string | undefined {
    return this.pairs[0] === 'Response' ? this.pairs[1] : this.get('Response');
  }

  get actionId(): string | undefined {
    return this.get('ActionID');
  }

  /** Header pairs in wire order. */
  *entries(): IterableIterator<[string, string]> {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) yield [p[i] as string, p[i + 1] as string];
  }

  /** Plain object; a repeated key becomes an array of its values. */
  toJSON(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) {
      const k = p[i] as string;
      const v = p[i + 1] as string;
      const had = out[k];
      if (had === undefined) out[k] = v;
      else if (Array.isArray(had)) had.push(v);
      else out[k] = [had, v];
    }
    return out;
  }

  static from(pairs: Iterable<readonly [string, string]> | Record<string, string | string[]>): AmiMessage {
    const m = new AmiMessage();
    if (Symbol.iterator in pairs) {
      for (const [k, v] of pairs as Iterable<readonly [string, string]>) m.add(k, v);
    } else {
      for (const [k, v] of Object.entries(pairs)) {
        if (Array.isArray(v)) for (const x of v) m.add(k, x);
        else m.add(k, v);
      }
    }
    return m;
  }
}
