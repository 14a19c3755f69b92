import type { ReplayableQueue } from '../../shared/delivery/queue.ts';
import type { EdgeStore } from './store.ts';

/** One device's slice of the edge store, as the shared Delivery loop reads it. */
export function deviceQueue(store: EdgeStore, mac: string, now: () => number): ReplayableQueue {
  return {
    peek: (n) => store.peekEvents(mac, n),
    ack: (uptoSeq) => store.ackEvents(mac, uptoSeq),
    deadLetter: (entry, reason) => store.deadLetter(mac, entry, reason, now()),
    depth: () => store.waitingCount(mac),
    deadLetterCount: () => store.deadLetterCount(mac),
    replayFrom: (seq) => store.replayFrom(mac, seq),
    listDeadLetters: () => store.listDeadLetters(mac),
    removeDeadLetter: (seq) => store.removeDeadLetter(mac, seq),
    loadRetryState: () => store.getRetryState(mac),
    saveRetryState: (state) => store.putRetryState(mac, state),
  };
}
