// Local types for the npm AMI clients the parser benchmark compares against; they ship none.

declare module 'asterisk-manager' {
  interface Manager {
    connect(port: number, host: string, callback?: () => void): void;
    on(event: string, listener: (item: Record<string, unknown>) => void): void;
    removeAllListeners(event: string): void;
  }
  function Manager(port?: number, host?: string, username?: string, password?: string, events?: boolean): Manager;
  export = Manager;
}

declare module 'asterisk-ami-events-stream' {
  import { Transform } from 'node:stream';
  /** The Transform asterisk-ami-client pipes its socket into; emits amiEvent / amiResponse / amiAction. */
  class AmiEventsStream extends Transform {}
  export = AmiEventsStream;
}
