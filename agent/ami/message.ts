/**
 * One AMI message (response, event or action) as a block of `Key: Value` lines.
 *
 * Keys keep the case Asterisk sends (`Uniqueid` in most events, `UniqueID` in Cdr): callers name them
 * exactly as the protocol does. A key can repeat (`Output:` lines of Command, a dialplan UserEvent that
 * adds a second `CallerIDNum`), so every value is kept; `get` returns the first.
 */
export class AmiMessage {
  /** First value of each key. */
  readonly fields: Record<string, string>;
  /** Later values of keys that repeat, beyond the first (absent when none repeat). */
  repeated: Record<string, string[]> | undefined;

  constructor(fields: Record<string, string> = Object.create(null) as Record<string, string>) {
    this.fields = fields;
    this.repeated = undefined;
  }

  /** Adds a header as it arrived on the wire, keeping repeats. */
  add(key: string, value: string): void {
    if (this.fields[key] === undefined) {
      this.fields[key] = value;
      return;
    }
    const repeated = (this.repeated ??= Object.create(null) as Record<string, string[]>);
    (repeated[key] ??= []).push(value);
  }

  get(key: string): string | undefined {
    return this.fields[key];
  }

  /** Every value of a key in wire order. */
  all(key: string): string[] {
    const first = this.fields[key];
    if (first === undefined) return [];
    const more = this.repeated?.[key];
    return more ? [first, ...more] : [first];
  }

  /** The last value of a key: a dialplan UserEvent's own header overrides the channel snapshot's. */
  last(key: string): string | undefined {
    const more = this.repeated?.[key];
    return more && more.length > 0 ? more[more.length - 1] : this.fields[key];
  }

  has(key: string): boolean {
    return this.fields[key] !== undefined;
  }

  get event(): string | undefined {
    return this.fields.Event;
  }

  get response(): string | undefined {
    return this.fields.Response;
  }

  get actionId(): string | undefined {
    return this.fields.ActionID;
  }

  /** Header pairs in wire order within each key (keys in first-seen order). */
  *entries(): IterableIterator<[string, string]> {
    for (const key in this.fields) {
      yield [key, this.fields[key] as string];
      const more = this.repeated?.[key];
      if (more) for (const v of more) yield [key, v];
    }
  }

  toJSON(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const key in this.fields) {
      const more = this.repeated?.[key];
      out[key] = more ? [this.fields[key] as string, ...more] : (this.fields[key] as string);
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
