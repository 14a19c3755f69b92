import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { AmiClient, systemTimers, type Timers } from './ami/client.ts';
import { detectDriver } from './ami/driver.ts';
import { tcpConnect } from './ami/tcp.ts';
import { AmiDevice } from './ami-device.ts';
import type { AgentConfig } from './config.ts';
import { createLanApp } from './lan-app.ts';
import type { Log } from './log.ts';
import type { ChannelDriver } from './ops/context.ts';
import { createRecordings } from './recordings.ts';

export interface AgentOptions {
  config: AgentConfig;
  log: Log;
  timers?: Timers;
  /** Host the LAN API binds to (the box serves its LAN; tests bind 127.0.0.1). */
  host?: string;
  /** Overrides BINDPORT (0 for any free port in tests). */
  port?: number;
  /** How long start() waits for the first AMI login before giving up with a clear error. */
  amiReadyTimeoutMs?: number;
}

export interface RunningAgent {
  ami: AmiClient;
  device: AmiDevice;
  driver: ChannelDriver;
  /** Where the LAN API listens, e.g. http://127.0.0.1:8000/coocenter-api */
  lanUrl: string;
  close(): Promise<void>;
}

/**
 * Wires the agent: AMI client, channel driver, the device the routes run commands on, and the LAN
 * API on BINDPORT. Returns once AMI is logged in and the API listens.
 */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { config, log } = opts;
  const timers = opts.timers ?? systemTimers;
  const ami = new AmiClient({
    connect: tcpConnect(config.ami.host, config.ami.port),
    username: config.ami.username,
    secret: config.ami.secret,
    timers,
    log: (e) => log({ component: 'ami', ...e }),
  });
  ami.start();
  let server: ServerType | undefined;
  try {
    await ami.waitReady(opts.amiReadyTimeoutMs ?? 30_000);
    const driver = await detectDriver(ami, config.ami.driver);
    const device = new AmiDevice({
      ami,
      driver,
      context: config.ami.context,
      ...(config.ami.memberInterface !== undefined ? { memberInterface: config.ami.memberInterface } : {}),
      openRecording: createRecordings(config.paths.monitor),
      now: timers.now,
    });
    const app = createLanApp({ config, device, now: timers.now, log: (e) => log({ component: 'lan-api', ...e }) });
    const host = opts.host ?? '0.0.0.0';
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? config.general.bindPort }, () => resolve(s));
      s.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    const lanUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/coocenter-api`;
    const running = server;
    return {
      ami,
      device,
      driver,
      lanUrl,
      close: async () => {
        ami.close();
        await new Promise<void>((resolve) => running.close(() => resolve()));
      },
    };
  } catch (e) {
    ami.close();
    server?.close();
    throw e;
  }
}
