import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config.ts';
import { createLanApp } from '../../agent/lan-app.ts';
import { ToolbarFeed } from '../../shared/toolbar/feed.ts';
import { createEdgeApp } from '../../edge/core/app.ts';
import { Hub } from '../../edge/core/hub.ts';
import { createMemoryStore } from '../../edge/core/memory-store.ts';
import { operations, type OperationName } from '../../shared/api/operations.ts';
import { z } from 'zod';
import { openApiPath, type JsonSchema, type OpenApiDocument } from '../../shared/api/openapi.ts';
import { specOf } from '../../shared/api/route.ts';
import { errorBody } from '../../shared/api/responses.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Device } from '../../shared/device.ts';
import { describedRoutes, expectAnswersMatchSpecs } from '../support/route-answers.ts';
import { sampleAnswer } from '../support/sample-answers.ts';

const ADMIN = 'openapi-test-admin';

/** A device that answers every operation; the tests only care whether a request got this far. */
function recordingDevice() {
  const calls: OperationName[] = [];
  const device: Device = {
    async run(op, params) {
      calls.push(op);
      return sampleAnswer(op, params);
    },
    async openRecording() {
      throw new Error('not used');
    },
  };
  return { device, calls };
}

function agentApp() {
  const { device, calls } = recordingDevice();
  const config = parseConfig('[ami]\nusername=u\nsecret=s\n');
  // With the toolbar, as an agent serves it: its routes must be documented too.
  const feed = new ToolbarFeed({ clock: systemClock, popUrl: () => null });
  const toolbar = { mac: '68:69:2e:03:8b:3e', key: new Uint8Array(32), feed };
  const recordingLinks = { key: new Uint8Array(32), mac: toolbar.mac };
  const app = createLanApp({ config, device, now: () => Date.now(), log: () => {}, toolbar, recordingLinks });
  return { app, calls };
}

function edgeApp() {
  const store = createMemoryStore();
  const hub = new Hub({ clock: systemClock, log: () => {} });
  return createEdgeApp({ store, hub, clock: systemClock, adminKey: ADMIN, log: () => {} }).app;
}

/** Every method+path the Hono app really routes, in OpenAPI's spelling; middleware and catch-alls (ALL) left out. */
function servedRoutes(app: Hono): string[] {
  const seen = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\/monitor\/\*$/, '/monitor/{filePath}');
    seen.add(`${r.method} ${path}`);
  }
  return [...seen].sort();
}

function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

async function spec(app: Hono): Promise<OpenApiDocument> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
}

/** A value the documented rules accept, found among a few candidates: the document is the only guide. */
function validValue(s: JsonSchema): string {
  for (const c of [...((s.enum as string[] | undefined) ?? []), '808', '630', 'queue-1']) if (accepts(s, c)) return c;
  throw new Error(`no candidate satisfies ${JSON.stringify(s)}`);
}

/** Values the documented rules refuse, each paired with what makes it wrong. */
function invalidValues(s: JsonSchema): [string, string][] {
  const out: [string, string][] = [['', 'empty']];
  if (s.enum) out.push(['maybe', 'not in enum']);
  if (s.pattern) out.push(['12;34!', 'breaks the pattern']);
  if (typeof s.maxLength === 'number') out.push([validValue(s).slice(0, 1).repeat(s.maxLength + 1), 'too long']);
  for (const [v, why] of out) expect(accepts(s, v), `${JSON.stringify(v)} (${why}) should break ${JSON.stringify(s)}`).toBe(false);
  return out;
}

function accepts(s: JsonSchema, v: string): boolean {
  if (s.enum && !(s.enum as string[]).includes(v)) return false;
  if (typeof s.pattern === 'string' && !new RegExp(s.pattern as string).test(v)) return false;
  if (typeof s.minLength === 'number' && v.length < s.minLength) return false;
  if (typeof s.maxLength === 'number' && v.length > s.maxLength) return false;
  return true;
}

describe('/openapi.json of the agent', () => {
  it('lists exactly the routes the LAN app serves', async () => {
    const { app } = agentApp();
    const doc = await spec(app);
    expect(documentedRoutes(doc)).toEqual(servedRoutes(app));
    for (const name of Object.keys(operations)) expect(JSON.stringify(doc.paths)).toContain(`"operationId":"${name}"`);
  });

  it('documents each parameter as the route validates it: valid values pass, each documented violation gets 400 naming the field', async () => {
    const { app, calls } = agentApp();
    const doc = await spec(app);
    let checked = 0;
    for (const [name, op] of Object.entries(operations) as [OperationName, (typeof operations)[OperationName]][]) {
      const body = doc.paths[`/coocenter-api${op.path}`]?.[op.method.toLowerCase() as 'post']?.requestBody;
      const schema = body?.content['application/x-www-form-urlencoded']?.schema;
      const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
      expect(Object.keys(props).sort(), name).toEqual(Object.keys(op.params.shape ?? {}).sort());
      if (!schema) continue;
      const valid = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, validValue(s)]));
      const send = (params: Record<string, string>) =>
        app.request(`/coocenter-api${op.path}`, { method: op.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });

      const before = calls.length;
      expect((await send(valid)).status, `${name} with ${JSON.stringify(valid)}`).toBe(200);
      expect(calls.length).toBe(before + 1);

      for (const field of (schema.required ?? []) as string[]) {
        const { [field]: _dropped, ...missing } = valid;
        const res = await send(missing);
        expect(res.status, `${name} without ${field}`).toBe(400);
        expect(((await res.json()) as { message: string }).message).toContain(field);
      }
      for (const [field, s] of Object.entries(props)) {
        for (const [bad, why] of invalidValues(s)) {
          const res = await send({ ...valid, [field]: bad });
          expect(res.status, `${name} ${field}=${JSON.stringify(bad)} (${why})`).toBe(400);
          expect(((await res.json()) as { message: string }).message).toContain(field);
          checked++;
        }
      }
      expect(calls.length, `${name}: no invalid request reached the device`).toBe(before + 1);
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('serves a reference page that loads the document from the same server, with no outside address', async () => {
    const { app } = agentApp();
    const res = await app.request('/docs');
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain("fetch('openapi.json')");
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
  });
});

describe('/openapi.json of the edge', () => {
  it('lists exactly the routes the edge serves: the 14 operations per device, monitor, admin, status, health, metrics', async () => {
    const app = edgeApp();
    const doc = await spec(app);
    const served = servedRoutes(app);
    expect(documentedRoutes(doc)).toEqual(served);
    for (const route of ['GET /healthz', 'GET /metrics', 'GET /devices/{mac}/status', 'PUT /admin/devices/{mac}', 'POST /admin/tenants', 'GET /devices/{mac}/coocenter-api/monitor/{filePath}']) {
      expect(served).toContain(route);
    }
    for (const op of Object.values(operations)) expect(served).toContain(`${op.method} /devices/{mac}/coocenter-api${op.path}`);
  });

  it('documents the admin bodies as the admin API validates them: a wrong type or a broken rule gets 400 naming the field', async () => {
    const app = edgeApp();
    const doc = await spec(app);
    const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const tenant = (await (await app.request('/admin/tenants', { method: 'POST', headers: auth, body: JSON.stringify({ name: 'acme' }) })).json()) as { id: string };
    const mac = '68:69:2e:03:8b:3e';
    expect((await app.request(`/admin/devices/${mac}`, { method: 'PUT', headers: auth, body: JSON.stringify({ tenant: tenant.id }) })).status).toBe(201);

    const samples: Record<string, Record<string, unknown>> = {
      '/admin/tenants': { name: 'acme' },
      '/admin/devices/{mac}': { tenant: tenant.id },
      '/admin/devices/{mac}/replay': { from: 0 },
    };
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.requestBody || !path.startsWith('/admin/')) continue;
        const schema = op.requestBody.content['application/json']!.schema;
        const valid = samples[path];
        expect(valid, `a sample body for ${method} ${path}`).toBeDefined();
        const url = path.replace('{mac}', mac);
        for (const [field, s] of Object.entries(schema.properties as Record<string, JsonSchema>)) {
          const types = ([] as unknown[]).concat(s.type ?? (s.anyOf as JsonSchema[] | undefined)?.map((x) => x.type) ?? []);
          const bad: unknown[] = [];
          if (!types.includes('string')) bad.push('text');
          if (!types.includes('boolean') && !types.includes('integer')) bad.push(true);
          if (types.includes('integer') && typeof s.minimum === 'number') bad.push(s.minimum - 1);
          const str = (s.anyOf as JsonSchema[] | undefined)?.find((x) => x.type === 'string') ?? s;
          if (str.format === 'uri') bad.push('not a url');
          if (typeof str.minLength === 'number' && str.minLength > 0) bad.push('');
          for (const value of bad) {
            const res = await app.request(url, { method: method.toUpperCase(), headers: auth, body: JSON.stringify({ ...valid, [field]: value }) });
            expect(res.status, `${method} ${path} ${field}=${JSON.stringify(value)}`).toBe(400);
            expect(((await res.json()) as { message: string }).message).toContain(field);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(8);
  });
});

/** `schema` with every `$ref` replaced by what it points at, in `defs`. */
function inline(schema: unknown, defs: Record<string, unknown>, prefix: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, defs, prefix));
  if (schema === null || typeof schema !== 'object') return schema;
  const { $ref, ...rest } = schema as Record<string, unknown>;
  if (typeof $ref === 'string' && $ref.startsWith(prefix)) return inline(defs[$ref.slice(prefix.length)], defs, prefix);
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, inline(v, defs, prefix)]));
}

/** What zod itself writes for a schema, references resolved. */
function zodJson(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _draft, $defs, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return inline(rest, ($defs ?? {}) as Record<string, unknown>, '#/$defs/') as Record<string, unknown>;
}

describe('/openapi.json is generated from the routes\' specs and from nothing else', () => {
  for (const [name, make] of [
    ['agent', () => agentApp().app],
    ['edge', edgeApp],
  ] as const) {
    it(`${name}: every route carries a spec, and every body and answer in the document is its spec's zod schema as z.toJSONSchema writes it`, async () => {
      const app: Hono = make();
      const doc = await spec(app);
      const components = doc.components.schemas;
      const fromDoc = (s: JsonSchema | undefined) => inline(s, components, '#/components/schemas/');
      expect(() => describedRoutes(app)).not.toThrow();
      let compared = 0;
      for (const r of app.routes) {
        const s = specOf(r.handler);
        if (r.method === 'ALL' || !s) continue;
        const op = doc.paths[openApiPath(r.path, s)]?.[s.method];
        expect(op, `${s.method} ${r.path}`).toBeDefined();
        for (const [status, answer] of Object.entries(s.responses)) {
          if (!(answer instanceof z.ZodType)) continue;
          expect(fromDoc(op!.responses[status]?.content?.['application/json']?.schema), `${s.operationId} ${status}`).toEqual(zodJson(answer));
          compared++;
        }
        for (const [type, content] of Object.entries(op!.requestBody?.content ?? {})) {
          const { additionalProperties: _dropped, required: _output, ...accepted } = zodJson(s.body!.schema);
          const { required } = z.toJSONSchema(s.body!.schema, { io: 'input', unrepresentable: 'any' });
          if (required) Object.assign(accepted, { required });
          expect(fromDoc(content.schema), `${s.operationId} ${type}`).toEqual(accepted);
          compared++;
        }
        for (const status of Object.keys(s.errors ?? {})) expect(fromDoc(op!.responses[status]?.content?.['application/json']?.schema)).toEqual(zodJson(errorBody));
      }
      expect(compared).toBeGreaterThan(name === 'edge' ? 40 : 20);
    });
  }

  it('the answer check finds a field a schema does not name, a status a route does not document, and an error in another shape', () => {
    const routes = describedRoutes(edgeApp());
    const url = 'http://edge/healthz';
    const ok = { method: 'GET', url, status: 200, contentType: 'application/json', body: { status: 'ok', tunnels: 0 } };
    expect(expectAnswersMatchSpecs(routes, [ok])).toBe(1);
    expect(() => expectAnswersMatchSpecs(routes, [{ ...ok, body: { status: 'ok', tunnels: 0, extra: 1 } }])).toThrow(/every field/);
    expect(() => expectAnswersMatchSpecs(routes, [{ ...ok, status: 418 }])).toThrow(/documents/);
    const status = { ...ok, url: 'http://edge/devices/68:69:2e:03:8b:3e/status', status: 401 };
    expect(() => expectAnswersMatchSpecs(routes, [{ ...status, body: { status: 'error', message: 'no', code: 1 } }])).toThrow(/error body/);
    expect(expectAnswersMatchSpecs(routes, [{ ...status, body: { status: 'error', message: 'no' } }])).toBe(1);
  });
});
