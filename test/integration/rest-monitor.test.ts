import { mkdtemp, mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLanApp } from '../../agent/lan-app.ts';
import { parseConfig } from '../../agent/config.ts';
import { createRecordings } from '../../agent/recordings.ts';
import { createApiRoutes } from '../../shared/api/app.ts';
import { createMemoryIdempotencyStore } from '../../shared/idempotency.ts';
import { RecordingDevice, rawRequest, serveApp, type Served } from '../support/rest-harness.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-FOLDER';
const AUDIO = Buffer.from('RIFF....WAVEfmt 0123456789abcdefghijklmnopqrstuvwxyz');
let root: string;
let monitor: string;
let served: Served | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rest-monitor-'));
  monitor = join(root, 'monitor');
  await mkdir(join(monitor, '2024', '01'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), SECRET);
  await writeFile(join(monitor, '2024', '01', 'call-1.wav'), AUDIO);
  await writeFile(join(monitor, 'call.mp3'), 'mp3');
  await writeFile(join(monitor, 'call.WAV49'), 'wav49');
  await symlink(join(root, 'secret.txt'), join(monitor, 'escape.wav'));
  await symlink(root, join(monitor, 'outside'));
  await symlink(join(monitor, '2024', '01', 'call-1.wav'), join(monitor, 'alias.wav'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function start(chunkBytes?: number) {
  const device = new RecordingDevice();
  const open = createRecordings(monitor, { chunkBytes });
  device.recordings = open;
  const config = parseConfig(`[ami]\nusername=u\nsecret=s\n[paths]\nmonitor=${monitor}\n`);
  served = await serveApp(createLanApp({ config, device, now: Date.now, log: () => {} }));
  return { device, port: served.port };
}

describe('GET /monitor/{filePath}', () => {
  it('serves a file below the folder with its type and length, and ranges with 206', async () => {
    const { port } = await start();
    const full = await rawRequest(port, 'GET', '/coocenter-api/monitor/2024/01/call-1.wav');
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toBe('audio/wav');
    expect(full.headers['content-length']).toBe(String(AUDIO.length));
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.body.equals(AUDIO)).toBe(true);

    const cases: [string, number, number][] = [
      ['bytes=4-7', 4, 7],
      ['bytes=10-', 10, AUDIO.length - 1],
      ['bytes=-5', AUDIO.length - 5, AUDIO.length - 1],
      ['bytes=0-2, 8-9', 0, 2],
      ['bytes=40-100000', 40, AUDIO.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await rawRequest(port, 'GET', '/coocenter-api/monitor/2024/01/call-1.wav', { range });
      expect(res.status, range).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${AUDIO.length}`);
      expect(res.body.equals(AUDIO.subarray(start, end + 1))).toBe(true);
    }
    const unsatisfiable = await rawRequest(port, 'GET', '/coocenter-api/monitor/2024/01/call-1.wav', { range: `bytes=${AUDIO.length}-` });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${AUDIO.length}`);

    expect((await rawRequest(port, 'GET', '/coocenter-api/monitor/call.mp3')).headers['content-type']).toBe('audio/mpeg');
    expect((await rawRequest(port, 'GET', '/coocenter-api/monitor/call.WAV49')).headers['content-type']).toBe('application/octet-stream');
    const head = await rawRequest(port, 'HEAD', '/coocenter-api/monitor/2024/01/call-1.wav');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(AUDIO.length));
  });

  it('a symlink inside the folder to a file inside is served; one pointing outside is 404', async () => {
    const { port } = await start();
    expect((await rawRequest(port, 'GET', '/coocenter-api/monitor/alias.wav')).body.equals(AUDIO)).toBe(true);
    for (const path of ['/coocenter-api/monitor/escape.wav', '/coocenter-api/monitor/outside/secret.txt']) {
      const res = await rawRequest(port, 'GET', path);
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain(SECRET);
    }
  });

  it('missing files and directories are 404', async () => {
    const { port } = await start();
    for (const path of ['/coocenter-api/monitor/nope.wav', '/coocenter-api/monitor/2024/01', '/coocenter-api/monitor/2024']) {
      expect((await rawRequest(port, 'GET', path)).status, path).toBe(404);
    }
  });

  const traversals = [
    '/coocenter-api/monitor/../secret.txt',
    '/coocenter-api/monitor/2024/../../secret.txt',
    '/coocenter-api/monitor/%2e%2e/secret.txt',
    '/coocenter-api/monitor/%2E%2e/secret.txt',
    '/coocenter-api/monitor/.%2e/secret.txt',
    '/coocenter-api/monitor/..%2fsecret.txt',
    '/coocenter-api/monitor/..%2Fsecret.txt',
    '/coocenter-api/monitor/2024%2f..%2f..%2fsecret.txt',
    '/coocenter-api/monitor/2024/%2f../%2f../secret.txt',
    '/coocenter-api/monitor/..\\secret.txt',
    '/coocenter-api/monitor/..%5csecret.txt',
    '/coocenter-api/monitor/..%5Csecret.txt',
    '/coocenter-api/monitor/%252e%252e/secret.txt',
    '/coocenter-api/monitor/%252e%252e%252fsecret.txt',
    '/coocenter-api/monitor/%c0%ae%c0%ae/secret.txt',
    '/coocenter-api/monitor/%2Fetc%2Fpasswd',
    // Absolute paths to the secret itself; the folder exists only once the suite has started.
    () => `/coocenter-api/monitor/${encodeURIComponent(join(root, 'secret.txt'))}`,
    () => `/coocenter-api/monitor/${join(root, 'secret.txt')}`,
    '/coocenter-api/monitor//etc/passwd',
    '/coocenter-api/monitor/2024//01/call-1.wav',
    '/coocenter-api/monitor/2024/01/call-1.wav%00.txt',
    '/coocenter-api/monitor/',
  ];
  it.each(traversals)('refuses %s without touching the outside folder', async (given) => {
    const path = typeof given === 'function' ? given() : given;
    const { port, device } = await start();
    const res = await rawRequest(port, 'GET', path);
    expect([400, 404]).toContain(res.status);
    expect(res.text).not.toContain(SECRET);
    for (const rel of device.recordingPaths) expect(rel.split('/')).not.toContain('..');
  });

  it('streams a 50 MB file without reading ahead of the client', async () => {
    const big = join(monitor, 'big.wav');
    const handle = await open(big, 'w');
    await handle.truncate(50 * 1024 * 1024);
    await handle.write(Buffer.from('END!'), 0, 4, 50 * 1024 * 1024 - 4);
    await handle.close();
    try {
      const chunk = 64 * 1024;
      const file = await createRecordings(monitor, { chunkBytes: chunk })('big.wav', undefined);
      expect(file.size).toBe(50 * 1024 * 1024);
      const reader = file.body.getReader();
      for (let i = 0; i < 3; i++) expect((await reader.read()).value!.length).toBe(chunk);
      // Bytes written now, past what the client has read, must show up: nothing was read ahead.
      const writer = await open(big, 'r+');
      await writer.write(Buffer.from('late'), 0, 4, 3 * chunk);
      await writer.close();
      expect(Buffer.from((await reader.read()).value!.subarray(0, 4)).toString()).toBe('late');
      await reader.cancel();

      const { port } = await start();
      const res = await rawRequest(port, 'GET', '/coocenter-api/monitor/big.wav');
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(50 * 1024 * 1024);
      expect(res.body.subarray(-4).toString()).toBe('END!');
    } finally {
      await rm(big);
    }
  });

  it('works mounted per device on the edge path, reading the raw wildcard after the MAC', async () => {
    const device = new RecordingDevice();
    device.recordings = createRecordings(monitor);
    const api = createApiRoutes({
      resolveDevice: async () => device,
      authenticate: async () => ({ kind: 'open' }),
      idempotency: createMemoryIdempotencyStore({ now: Date.now }),
      deviceId: (c) => c.req.param('mac') ?? '',
      log: () => {},
    });
    const app = new Hono().route('/devices/:mac/coocenter-api', api);
    served = await serveApp(app);
    const ok = await rawRequest(served.port, 'GET', '/devices/68692e038b3e/coocenter-api/monitor/2024/01/call-1.wav');
    expect(ok.status).toBe(200);
    expect(ok.body.equals(AUDIO)).toBe(true);
    expect(device.recordingPaths).toEqual(['2024/01/call-1.wav']);
    const bad = await rawRequest(served.port, 'GET', '/devices/68692e038b3e/coocenter-api/monitor/%2e%2e/secret.txt');
    expect([400, 404]).toContain(bad.status);
  });
});
