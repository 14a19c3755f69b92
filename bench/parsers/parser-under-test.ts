/** What one parser made of the whole stream. */
export interface ParseCount {
  /** Messages handed out as objects; a banner is not one. */
  messages: number;
  /** Empty objects handed out for stray blank lines between messages (asterisk-manager makes these). */
  empty: number;
}

/** One AMI parser driven from raw socket chunks to message objects, with no network in between. */
export interface ParserUnderTest {
  name: string;
  parse(chunks: readonly Buffer[]): ParseCount | Promise<ParseCount>;
}
