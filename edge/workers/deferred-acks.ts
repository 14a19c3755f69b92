import type { EdgeStore } from '../core/store.ts';

/**
 * A device object's delivery acks, held in memory and written together with the store's next call
 * on the event line: the delivery loop's next read of the line (every 50 events), a dead letter,
 * a retry wait or stop, an operator's replay or listing. A write in a Durable Object holds the
 * object's next fetch until the write is durable, so an ack written per event made every webhook
 * wait for one commit, and local workerd commits on the thread all objects share: 100 devices
 * delivered about 8 events/s each. An ack lost with the object (eviction, crash) only sends those
 * webhooks again, at least once as always (receivers dedupe by webhook-id); the agent's events are
 * still acknowledged only after their commit (commitEvents is not deferred).
 */
export function deferredAcks(store: EdgeStore, onWritten: () => void): EdgeStore {
  let pending: { mac: string; uptoSeq: number }[] = [];

  // In order, each as the loop sent it: an ack names a seq, not its epoch, so they cannot be merged.
  async function flush(): Promise<void> {
    if (pending.length === 0) return;
    const acks = pending;
    pending = [];
    for (const a of acks) await store.ackEvents(a.mac, a.uptoSeq);
    onWritten();
  }
  const first =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await flush();
      return fn(...args);
    };

  return {
    ...store,
    async ackEvents(mac, uptoSeq) {
      pending.push({ mac, uptoSeq });
    },
    peekEvents: first(store.peekEvents),
    deadLetter: first(store.deadLetter),
    waitingCount: first(store.waitingCount),
    deadLetterCount: first(store.deadLetterCount),
    listDeadLetters: first(store.listDeadLetters),
    removeDeadLetter: first(store.removeDeadLetter),
    replayFrom: first(store.replayFrom),
    putRetryState: first(store.putRetryState),
    deleteDevice: first(store.deleteDevice),
    pruneDelivered: first(store.pruneDelivered),
  };
}
