import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLanApp } from '../../agent/lan-app.ts';
import { parseConfig, type AgentConfig } from '../../agent/config.ts';
import { operations, type OperationName } from '../../shared/api/operations.ts';
import { ApiError } from '../../shared/errors.ts';
import { RecordingDevice, rawRequest, serveApp, VALID_PARAMS, type Served } from '../support/rest-harness.ts';

const valid = VALID_PARAMS;
const names = Object.keys(valid) as OperationName[];
const withParams = names.filter((n) => Object.keys(valid[n]).length > 0);
/** Fields that take digits (numbers and extensions), per operation. */
const digitFields = (op: OperationName) => Object.keys(valid[op]).filter((f) => f !== 'queue' && f !== 'state');

function conf(extra = ''): AgentConfig {
  return parseConfig(`[general]\ncors_origins=https://crm.example.com\n${extra}\n[ami]\nusername=u\nsecret=s\n`);
}

const form = (p: Record<string, string>) => new URLSearchParams(p).toString();

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function start(opts: { config?: AgentConfig; now?: () => number; timeZone?: string; log?: (e: Record<string, unknown>) => void } = {}) {
  const device = new RecordingDevice();
  const app = createLanApp({
    config: opts.config ?? conf(),
    device,
    now: opts.now ?? (() => Date.now()),
    log: opts.log ?? (() => {}),
    timeZone: opts.timeZone,
  });
  served = await serveApp(app);
  const port = served.port;
  const send = (op: OperationName, body?: string, headers: Record<string, string> = {}, query = '') => {
    const o = operations[op];
    return rawRequest(port, o.method, `/coocenter-api${o.path}${query}`, body === undefined ? headers : { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body);
  };
  return { device, port, send };
}

describe('every operation reaches device.run with validated parameters', () => {
  it.each(names)('%s: form body with the document\'s stray spaces, or query string', async (op) => {
    const { device, send } = await start();
    const params = valid[op];
    // The document's curl: -d" src=808&dst=809" sends the key " src".
    const spaced = Object.entries(params).map(([k, v]) => ` ${k}= ${v} `).join('&');
    const res = operations[op].method === 'POST' ? await send(op, spaced) : await send(op, undefined, {}, spaced ? `?${spaced.replaceAll(' ', '%20').replaceAll('+', '%2B')}` : '');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'success', message: `ran ${op}` });
    expect(device.calls.map((c) => [c.op, c.params])).toEqual([[op, params]]);
  });

  it.each(withParams)('%s: JSON body, numbers as numbers, body wins over the query', async (op) => {
    const { device, send } = await start();
    const params = valid[op];
    const json = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v]));
    const query = `?${Object.keys(params).map((k) => `${k}=999`).join('&')}`;
    const res = await send(op, JSON.stringify(json), { 'content-type': 'application/json' }, query);
    expect(res.status).toBe(200);
    expect(device.calls[0]!.params).toEqual(params);
  });

  it('keeps the leading + of an international number', async () => {
    const { device, send } = await start();
    await send('click-number', 'src=808&dst=+8613800138000');
    expect(device.calls[0]!.params.dst).toBe('+8613800138000');
  });

  it('accepts a multipart body (curl -F)', async () => {
    const { device, port } = await start();
    const fd = new FormData();
    fd.set('extension', '808');
    const res = await fetch(`http://127.0.0.1:${port}/coocenter-api/extensions/hangup`, { method: 'POST', body: fd });
    expect(res.status).toBe(200);
    expect(device.calls[0]!.params).toEqual({ extension: '808' });
  });
});

describe('parameters that must never reach AMI', () => {
  const injections = ['808\r\nAction: Originate', '808\r\n', '808\n', '\r808', '80\u00008', '80\t8', '808\u007f', '808\u001b'];
  for (const op of withParams) {
    for (const field of Object.keys(valid[op])) {
      it(`${op}.${field}: CR, LF and other control characters -> 400 naming the field`, async () => {
        const { device, send } = await start();
        for (const bad of injections) {
          for (const body of [form({ ...valid[op], [field]: bad }), JSON.stringify({ ...valid[op], [field]: bad })]) {
            const res = await send(op, body, body.startsWith('{') ? { 'content-type': 'application/json' } : {});
            expect(res.status, JSON.stringify(bad)).toBe(400);
            expect((res.json() as { message: string }).message).toMatch(new RegExp(`^${field}: `));
          }
        }
        expect(device.calls).toEqual([]);
      });
    }
  }

  it.each(withParams)('%s: missing, over-long and non-digit values -> 400 naming the field', async (op) => {
    const { device, send } = await start();
    for (const field of Object.keys(valid[op])) {
      const without = { ...valid[op] };
      delete without[field];
      const missing = await send(op, form(without));
      expect(missing.status).toBe(400);
      expect(missing.json()).toEqual({ status: 'error', message: `${field}: is required` });
      const long = await send(op, form({ ...valid[op], [field]: '1'.repeat(65) }));
      expect(long.status).toBe(400);
      expect((long.json() as { message: string }).message).toMatch(new RegExp(`^${field}: `));
    }
    for (const field of digitFields(op)) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dialplan variable as a client might send one, to be refused
      for (const bad of ['80a', 'SIP/808', '808 809', '8+08', '-1', '808@ctx', '${EXTEN}']) {
        const res = await send(op, form({ ...valid[op], [field]: bad }));
        expect(res.json()).toEqual({ status: 'error', message: `${field}: must be digits, * or #, optionally starting with +` });
      }
    }
    expect(device.calls).toEqual([]);
  });

  it('a pause state other than on/off is refused', async () => {
    const { device, send } = await start();
    const res = await send('agent-pause', 'queue=630&member=808&state=maybe');
    expect(res.json()).toEqual({ status: 'error', message: 'state: must be on or off' });
    expect(device.calls).toEqual([]);
  });

  it('a body over 16 KiB -> 413, malformed JSON -> 400 saying so', async () => {
    const { device, send } = await start();
    const big = await send('hangup', `extension=808&pad=${'x'.repeat(17 * 1024)}`);
    expect(big.status).toBe(413);
    const broken = await send('hangup', '{"extension": "808"', { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    expect((broken.json() as { message: string }).message).toMatch(/not valid JSON/);
    expect(device.calls).toEqual([]);
  });
});

describe('errors', () => {
  it('unknown paths and wrong methods -> 404 JSON', async () => {
    const { port, device } = await start();
    for (const [method, path] of [['POST', '/coocenter-api/extensions/nope'], ['GET', '/coocenter-api/extensions/click-number'], ['GET', '/elsewhere']]) {
      const res = await rawRequest(port, method!, path!);
      expect(res.status).toBe(404);
      expect((res.json() as { status: string }).status).toBe('error');
    }
    expect(device.calls).toEqual([]);
  });

  it('a device ApiError keeps its status and message; anything else is a logged 500 with a request id', async () => {
    const logs: Record<string, unknown>[] = [];
    const { device, send } = await start({ log: (e) => logs.push(e) });
    device.answer = async () => {
      throw new ApiError('CONFLICT', 'extension 808 has no call to hang up');
    };
    const conflict = await send('hangup', 'extension=808');
    expect(conflict.status).toBe(409);
    expect(conflict.json()).toEqual({ status: 'error', message: 'extension 808 has no call to hang up' });
    device.answer = async () => {
      throw new TypeError('secret internals');
    };
    const crash = await send('hangup', 'extension=808');
    expect(crash.status).toBe(500);
    const body = crash.json() as { status: string; message: string };
    expect(body.message).not.toMatch(/secret internals/);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'error', error: 'secret internals' });
    expect(body.message).toContain(String(logs[0]!.requestId));
  });
});

describe('WEBKEY', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  // 20:00 UTC on 15 January is already 16 January in Shanghai: the box's dates are 15, 16 and 17.
  const now = () => Date.UTC(2024, 0, 15, 20, 0, 0);
  const started = () => start({ config: conf('WEBKEY=ab#cd;1'), now, timeZone: 'Asia/Shanghai' });

  it("accepts md5(WEBKEY + date) for the box's yesterday, today and tomorrow, in either case", async () => {
    const { send, device } = await started();
    for (const day of ['2024-01-15', '2024-01-16', '2024-01-17']) {
      for (const auth of [md5(`ab#cd;1${day}`), md5(`ab#cd;1${day}`).toUpperCase()]) {
        const res = await send('queue-info', undefined, { authorization: auth });
        expect(res.status, `${day} ${auth}`).toBe(200);
      }
    }
    expect(device.calls).toHaveLength(6);
  });

  it('refuses a two-days-old digest, another key and a missing header with 401', async () => {
    const { send, device } = await started();
    const attempts: Record<string, string>[] = [{ authorization: md5('ab#cd;12024-01-14') }, { authorization: md5('ab#cd2024-01-16') }, {}];
    for (const headers of attempts) {
      const res = await send('click-number', form(valid['click-number']), headers);
      expect(res.status).toBe(401);
      expect((res.json() as { message: string }).message).toMatch(/Authorization is (required|wrong)/);
    }
    expect(device.calls).toEqual([]);
  });

  it('needs no Authorization without a WEBKEY (empty or missing)', async () => {
    for (const extra of ['', 'WEBKEY=', ';WEBKEY=abc']) {
      const { send } = await start({ config: conf(extra) });
      expect((await send('queue-info')).status).toBe(200);
      await served!.close();
      served = undefined;
    }
  });
});

describe('Idempotency-Key', () => {
  it('a repeat gets the first answer without acting again; other parameters are refused', async () => {
    const { device, send } = await start();
    let n = 0;
    device.answer = async () => ({ status: 'success', message: 'Originate successfully queued', n: ++n });
    const first = await send('click-number', form(valid['click-number']), { 'idempotency-key': 'k1' });
    const again = await send('click-number', form(valid['click-number']), { 'idempotency-key': 'k1' });
    expect(again.status).toBe(first.status);
    expect(again.json()).toEqual(first.json());
    expect(device.calls).toHaveLength(1);
    expect(device.calls[0]!.options?.idempotencyKey).toBe('k1');
    const other = await send('click-number', form({ src: '808', dst: '810' }), { 'idempotency-key': 'k1' });
    expect(other.status).toBe(400);
    expect((other.json() as { message: string }).message).toMatch(/^Idempotency-Key: /);
    // Another key, or the same key on another operation, acts.
    await send('click-number', form(valid['click-number']), { 'idempotency-key': 'k2' });
    await send('hangup', 'extension=808', { 'idempotency-key': 'k1' });
    expect(device.calls).toHaveLength(3);
  });

  it('concurrent repeats wait for the first and share its answer', async () => {
    const { device, send } = await start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const called = new Promise<void>((r) => (reached = r));
    device.answer = async () => {
      reached();
      await gate;
      return { status: 'success', message: 'hangup extension success' };
    };
    const a = send('hangup', 'extension=808', { 'idempotency-key': 'same' });
    await called;
    const b = send('hangup', 'extension=808', { 'idempotency-key': 'same' });
    const c = send('hangup', 'extension=808', { 'idempotency-key': 'same' });
    release();
    const answers = await Promise.all([a, b, c]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(device.calls).toHaveLength(1);
  });

  it('a transient failure (502/503/504) is not kept, so the retry acts', async () => {
    const { device, send } = await start();
    device.answer = async () => {
      throw new ApiError('TIMEOUT', 'Asterisk did not answer in time');
    };
    expect((await send('hangup', 'extension=808', { 'idempotency-key': 'r' })).status).toBe(504);
    device.answer = async () => ({ status: 'success', message: 'hangup extension success' });
    expect((await send('hangup', 'extension=808', { 'idempotency-key': 'r' })).status).toBe(200);
    expect(device.calls).toHaveLength(2);
  });
});

describe('CORS', () => {
  it('answers preflight and requests from an allowed origin, and adds nothing for others', async () => {
    const { port } = await start();
    const pre = (origin: string) =>
      rawRequest(port, 'OPTIONS', '/coocenter-api/extensions/click-number', {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, idempotency-key',
      });
    const ok = await pre('https://crm.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://crm.example.com');
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('idempotency-key');
    const evil = await pre('https://evil.example.com');
    expect(Object.keys(evil.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const get = await rawRequest(port, 'GET', '/coocenter-api/queues/queue-info', { origin: 'https://crm.example.com' });
    expect(get.headers['access-control-allow-origin']).toBe('https://crm.example.com');
    const getEvil = await rawRequest(port, 'GET', '/coocenter-api/queues/queue-info', { origin: 'https://evil.example.com' });
    expect(getEvil.status).toBe(200);
    expect(getEvil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves GET /healthz', async () => {
    const { port } = await start();
    expect((await rawRequest(port, 'GET', '/healthz')).json()).toEqual({ status: 'ok' });
  });
});
