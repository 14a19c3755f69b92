/** What every translator needs besides the AMI event itself. */
export interface TranslateContext {
  /** Device identity, put on every event. */
  mac: string;
  /** The PBX's IANA zone (e.g. `Asia/Shanghai`): document times are local wall-clock times. */
  timeZone: string;
  /** When the agent read the event (epoch ms), for events without a `Timestamp:` header. */
  receivedAt: number;
  /** The recordings folder (`[paths] monitor`); recording paths are given relative to it. */
  monitorDir: string;
  /** What earlier events told about a call (recording, direction, IVR entry); absent: nothing known. */
  facts?: CallFactsView;
}

/** Facts that the dialplan or MixMonitor announced in events that are not themselves documented events. */
export interface CallFacts {
  /** Relative to the recordings folder. */
  recordFile?: string;
  direction?: 'inbound' | 'outbound';
  trunkNumber?: string;
  /** Event time (epoch ms) of the first IVR step of the call. */
  ivrStartMs?: number;
}

/** Lookup by a channel's Uniqueid or by the call's Linkedid. */
export interface CallFactsView {
  get(id: string): CallFacts | undefined;
}
