import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import Manager from 'asterisk-manager';
import type { ParserUnderTest } from './parser-under-test.ts';

// The CommonJS `net` object asterisk-manager's lib/ami.js calls createConnection on.
const net = createRequire(import.meta.url)('node:net') as { createConnection: unknown };

/** Stands in for the net.Socket ManagerConnect configures; the bench emits its 'data' events. */
class FakeSocket extends EventEmitter {
  readonly readyState = 'open';
  setKeepAlive(): void {}
  setNoDelay(): void {}
  setEncoding(): void {}
}

/**
 * asterisk-manager 0.2.0 parses in ManagerReader, a private 'data' listener on its socket, and emits each
 * message object as 'rawevent'. We hand it a fake socket and emit the chunks as the real one would after
 * its setEncoding('utf-8') (a StringDecoder, so decoding is counted). Its own 'rawevent' listener, which
 * only schedules a process.nextTick re-emit per message, is removed: what is timed is parsing alone.
 */
export const asteriskManager: ParserUnderTest = {
  name: 'asterisk-manager 0.2.0',
  parse(chunks) {
    const socket = new FakeSocket();
    const original = net.createConnection;
    net.createConnection = () => socket;
    const manager = Manager();
    try {
      manager.connect(5038, '127.0.0.1');
    } finally {
      net.createConnection = original;
    }
    manager.removeAllListeners('rawevent');
    let messages = 0;
    let empty = 0;
    manager.on('rawevent', (item) => {
      for (const _ in item) {
        messages++;
        return;
      }
      empty++;
    });
    const decoder = new StringDecoder('utf8');
    for (const chunk of chunks) socket.emit('data', decoder.write(chunk));
    return { messages, empty };
  },
};
