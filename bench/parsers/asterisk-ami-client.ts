import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import AmiEventsStream from 'asterisk-ami-events-stream';
import type { ParserUnderTest } from './parser-under-test.ts';

/**
 * asterisk-ami-client 1.1.5 pipes its socket into an asterisk-ami-events-stream Transform that emits
 * amiEvent / amiResponse / amiAction objects and pushes each message's text to its readable side.
 * We write the chunks as socket.pipe() would (honouring backpressure) and read the readable side as
 * asterisk-ami-connector does, with a 'data' listener; unread, the Transform would stall.
 */
export const asteriskAmiClient: ParserUnderTest = {
  name: 'asterisk-ami-client 1.1.5',
  async parse(chunks) {
    const stream = new AmiEventsStream();
    let messages = 0;
    const count = () => {
      messages++;
    };
    stream.on('amiEvent', count).on('amiResponse', count).on('amiAction', count);
    stream.on('data', () => {});
    for (const chunk of chunks) if (!stream.write(chunk)) await once(stream, 'drain');
    stream.end();
    await finished(stream);
    return { messages, empty: 0 };
  },
};
