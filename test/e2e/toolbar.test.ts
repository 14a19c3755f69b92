import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseConfig } from '../../agent/config.ts';
import { startEdgeServer, type EdgeServer } from '../../edge/node/server.ts';
import { startPbxSim, type PbxSim } from '../pbxsim/index.ts';
import { ADMIN_KEY, provision } from '../support/edge-harness.ts';
import { until } from '../support/wait.ts';

/** Debian's chromium (.ci/run installs it); playwright-core only drives it. */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MAC = '68:69:2e:03:8b:3e';
const SHOTS = 'test-output/toolbar';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The CRM's screen-pop page: records every request it gets. */
async function popReceiver(): Promise<{ url: string; hits: URL[] }> {
  const hits: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://crm');
    // The browser also asks for /favicon.ico: only the page itself counts.
    if (url.pathname === '/crm') hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<title>CRM</title>customer');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm?src=toolbar`, hits };
}

interface Stack {
  sim: PbxSim;
  agent: RunningAgent;
  /** Where the toolbar page and its API live: the agent's root, or /devices/{mac} on the edge. */
  base: string;
  /** Asks for a toolbar token the way a CRM would. */
  token(extension: string, supervisor?: boolean): Promise<string>;
}

async function stack(via: 'lan' | 'edge', popUrl: string): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'coo-toolbar-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const sim = await startPbxSim({ driver: 'sip' });
  cleanups.push(() => sim.close());
  let edge: EdgeServer | undefined;
  let tunnel = '';
  let tenantKey = '';
  if (via === 'edge') {
    edge = await startEdgeServer({ port: 0, host: '127.0.0.1', dataDir: join(dir, 'edge'), adminKey: ADMIN_KEY, log: () => undefined });
    const e = edge;
    cleanups.push(() => e.close());
    const p = await provision(edge, MAC);
    tenantKey = p.tenantKey;
    tunnel = `[tunnel]\nedge=${edge.url.replace(/^http/, 'ws')}\ntoken=${p.token}\n`;
  }
  const config = parseConfig(
    `[general]\nBINDPORT=8000\nmac=${MAC}\npop_url=${popUrl}\n[enable]\npausetime=yes\nwrapup_seconds=30\n` +
      `[ami]\nhost=127.0.0.1\nport=${sim.port}\nusername=coocenter\nsecret=coocenter\n[paths]\nmonitor=${dir}/monitor\nspool=${dir}/spool\n${tunnel}`,
  );
  const agent = await startAgent({ config, log: () => undefined, host: '127.0.0.1', port: 0 });
  cleanups.push(() => agent.close());
  const lanRoot = agent.lanUrl.replace(/\/coocenter-api$/, '');
  if (via === 'edge') {
    const t = agent.tunnel!;
    await until(() => t.status === 'online', 'the tunnel');
  }
  const base = via === 'lan' ? lanRoot : `${edge!.url}/devices/${MAC}`;
  const token = async (extension: string, supervisor = false) => {
    const url = via === 'lan' ? `${lanRoot}/coocenter-api/toolbar/token` : `${base}/toolbar/token`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(via === 'edge' ? { authorization: `Bearer ${tenantKey}` } : {}) },
      body: JSON.stringify({ extension, supervisor }),
    });
    const body = (await res.json()) as { token: string };
    expect(res.status).toBe(200);
    return body.token;
  };
  return { sim, agent, base, token };
}

async function browser(locale = 'en-US'): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'coocenter-toolbar-ui-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, locale });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });

for (const via of ['lan', 'edge'] as const) {
  describe(`the agent toolbar in Chromium (${via === 'lan' ? 'agent LAN port' : 'through the Node edge'})`, () => {
    it('rings, pops the CRM once, shows the call, wrap-up counting down, and Ready ends wrap-up early', async () => {
      mkdirSync(SHOTS, { recursive: true });
      const crm = await popReceiver();
      const s = await stack(via, crm.url);
      // 800 answers after 4 s so the ringing is seen; 801 never answers, so 800 takes the call.
      s.sim.setPhone('800', { answerAfterMs: 4000 });
      s.sim.setPhone('801', { answerAfterMs: null });
      const context = await browser();
      const popups: string[] = [];
      context.on('page', (p) => popups.push(p.url()));
      const page = await context.newPage();
      await page.goto(`${s.base}/toolbar#token=${await s.token('800')}`);
      // The token leaves the address at once (it would otherwise land in history and screenshots).
      expect(page.url()).toBe(`${s.base}/toolbar`);
      const state = page.locator('#state');
      await page.locator('#state[data-state="idle"]').waitFor();
      await page.locator('.q[data-queue="630"][data-paused="0"]').waitFor();
      await page.locator('#link', { hasText: 'Live' }).waitFor();
      await shot(page, `${via}-idle`);

      const call = s.sim.queueCall({ from: '806', queue: '630', talkMs: 3000, hangupBy: 'callee' });
      await page.locator('#state[data-state="ringing"]').waitFor();
      await expect(page.textContent('#caller')).resolves.toBe('806');
      await shot(page, `${via}-ringing`);
      const hit = await until(() => crm.hits[0], 'the screen pop');
      expect(Object.fromEntries(hit.searchParams)).toEqual({ src: 'toolbar', caller: '806', called: '630', callid: call.linkedid, queue: '630', extension: '800' });

      await page.locator('#state[data-state="incall"]').waitFor();
      await shot(page, `${via}-incall`);
      await call.done;

      await page.locator('#state[data-state="wrapup"]').waitFor();
      const left = Number(/\d+/.exec((await page.textContent('#countdown')) ?? '')?.[0]);
      expect(left).toBeGreaterThan(20);
      expect(left).toBeLessThanOrEqual(30);
      // It counts down by itself.
      await until(async () => Number(/\d+/.exec((await page.textContent('#countdown')) ?? '')?.[0]) < left, 'the countdown to move', 3000);
      await page.locator('.q[data-queue="630"][data-paused="1"]').waitFor();
      await shot(page, `${via}-wrapup`);

      await page.click('#unpause');
      await page.locator('#state[data-state="idle"]').waitFor();
      await page.locator('.q[data-queue="630"][data-paused="0"]').waitFor();
      expect(s.sim.pbx.queues.get('630')?.members.find((m) => m.location === 'SIP/800')?.paused).toBe(false);
      await shot(page, `${via}-ready`);
      // Long after the wrap-up began: still one pop for the one call.
      expect(crm.hits).toHaveLength(1);
      expect(popups.filter((u) => u.includes('/crm'))).toHaveLength(1);
      await expect(state.textContent()).resolves.toBe('Idle');
    });
  });
}

describe('the agent toolbar in Chinese', () => {
  it('speaks Chinese to a browser whose language is zh-CN', async () => {
    const crm = await popReceiver();
    const s = await stack('lan', crm.url);
    const page = await (await browser('zh-CN')).newPage();
    await page.goto(`${s.base}/toolbar#token=${await s.token('800')}`);
    await page.locator('#state[data-state="idle"]').waitFor();
    await expect(page.textContent('#state')).resolves.toBe('空闲');
    await page.locator('#link', { hasText: '已连接' }).waitFor();
  });
});
