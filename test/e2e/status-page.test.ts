import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOutbox, provision, ScriptedDevice, startAgent, startEdge, tempDataDir, type TestAgent } from '../support/edge-harness.ts';

/** Debian's chromium (.ci/run installs it); playwright-core only drives it, it downloads nothing. */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function browser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'coocenter-ui-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

async function edgeWithDevice(mac: string) {
  const data = tempDataDir();
  cleanups.push(() => data.remove());
  const edge = await startEdge(data.dir);
  cleanups.push(() => edge.close());
  const secrets = await provision(edge, mac);
  return { edge, ...secrets };
}

describe('the /ui status page in Chromium', () => {
  it('shows a device online with its versions, then offline within seconds of its agent going away', async () => {
    const mac = '68:69:2e:03:8b:3e';
    const { edge, token, tenantKey } = await edgeWithDevice(mac);
    const agent: TestAgent = startAgent(edge, { mac, token, device: new ScriptedDevice(), outbox: new MemoryOutbox() });
    cleanups.push(() => agent.client.close());
    await agent.waitFor('online');

    const page = await (await browser()).newPage();
    await page.goto(`${edge.url}/ui`);
    await page.fill('#key', tenantKey);
    await page.click('#use');
    const row = page.locator(`tr[data-mac="${mac}"]`);
    await row.locator('[data-state="online"]').waitFor({ timeout: 5000 });
    expect(await page.isVisible('#key')).toBe(false);
    await expect(row.textContent()).resolves.toContain('20.20.1');
    await expect(row.textContent()).resolves.toContain('test-agent');
    // The key lives in this tab's sessionStorage, never in the address.
    expect(page.url()).toBe(`${edge.url}/ui`);
    expect(page.url()).not.toContain(tenantKey);
    expect((await page.evaluate('Object.values(sessionStorage)')) as string[]).toContain(tenantKey);

    const wentOffline = Date.now();
    agent.client.close();
    await row.locator('[data-state="offline"]').waitFor({ timeout: 6000 });
    expect(Date.now() - wentOffline).toBeLessThan(6000);
    await expect(row.textContent()).resolves.toContain('agent shutting down');

    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/status-page.png', fullPage: true });
  });

  it('refuses a wrong key with words and asks again, keeping nothing', async () => {
    const { edge } = await edgeWithDevice('68:69:2e:03:8b:3f');
    const page = await (await browser()).newPage();
    await page.goto(`${edge.url}/ui`);
    await page.fill('#key', 'cok_not-a-key');
    await page.click('#use');
    await page.locator('#note.error').waitFor({ timeout: 5000 });
    expect(await page.textContent('#note')).toContain('refused');
    expect(await page.isVisible('#key')).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });
});
