import { AmiParser, type AmiFrame } from '../../agent/ami/parser.ts';
import type { ParserUnderTest } from './parser-under-test.ts';

/** Ours, used as the agent's client uses it: Buffer chunks straight from the socket, banner expected. */
export const amiParser: ParserUnderTest = {
  name: 'ours (agent/ami/parser.ts)',
  parse(chunks) {
    const parser = new AmiParser({ expectBanner: true });
    const frames: AmiFrame[] = [];
    let messages = 0;
    for (const chunk of chunks) {
      parser.feed(chunk, frames);
      for (const f of frames) if (f.kind === 'message') messages++;
      frames.length = 0;
    }
    return { messages, empty: 0 };
  },
};
