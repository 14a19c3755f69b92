import { constants } from 'node:fs';
import { access, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { assessAsteriskVersion, type AsteriskSupport } from '../shared/asterisk-version.ts';
import { AmiClient } from './ami/client.ts';
import { describeDrivers, detectDriver } from './ami/driver.ts';
import { AmiError } from './ami/errors.ts';
import { tcpConnect } from './ami/tcp.ts';
import { ConfigError, loadConfig, type AgentConfig } from './config.ts';
import { firstNicMac } from './mac.ts';
import { BOX_ZONE } from './events/time.ts';
import { backfillSources } from './backfill/gap-backfill.ts';

/** One line of `coocenter-agent --check`: `ok` with what was found, or what to fix. */
export interface CheckLine {
  result: 'ok' | 'fix' | 'warn';
  subject: string;
  detail: string;
}

export interface CheckOptions {
  configPath: string;
  /** How long AMI may take from connect to logged in. */
  amiTimeoutMs?: number;
  /** How long each request to the edge may take. */
  edgeTimeoutMs?: number;
  /** Receives each line as soon as it is known. */
  report(line: CheckLine): void;
}

const MANAGER_HINT = 'see deploy/manager.conf.example for the read and write classes the agent needs';

/**
 * What `coocenter-agent --check` verifies, in order, reporting each as ok or as what to fix:
 * api.conf, the AMI login, the Asterisk version, the channel driver, the recordings folder, the spool, and with [tunnel]
 * the edge's /healthz and the tunnel upgrade with the token. Resolves true when nothing needs fixing.
 * It never sends a tunnel hello, so a running agent's tunnel is not replaced.
 */
export async function runCheck(opts: CheckOptions): Promise<boolean> {
  let failed = false;
  const report = (result: CheckLine['result'], subject: string, detail: string) => {
    if (result === 'fix') failed = true;
    opts.report({ result, subject, detail });
  };

  let config: AgentConfig;
  try {
    config = await loadConfig(opts.configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    report('fix', 'api.conf', e.message);
    return false;
  }
  report('ok', 'api.conf', `${opts.configPath} read (${config.tunnel ? `tunnel to ${config.tunnel.edge}` : `LAN mode, API on port ${config.general.bindPort}`})`);
  for (const w of config.warnings) report('warn', 'api.conf', w);

  await checkAmi(config, opts.amiTimeoutMs ?? 5000, report);
  await checkFolders(config, report);
  await checkRecords(config, report);
  if (config.tunnel) await checkEdge(config, config.tunnel, opts.edgeTimeoutMs ?? 5000, report);
  return !failed;
}

type Report = (result: CheckLine['result'], subject: string, detail: string) => void;

async function checkAmi(config: AgentConfig, timeoutMs: number, report: Report): Promise<void> {
  const { host, port, username } = config.ami;
  const where = `${host}:${port}`;
  let reason: string | undefined;
  const ami = new AmiClient({
    connect: tcpConnect(host, port),
    username,
    secret: config.ami.secret,
    events: false,
    loginTimeoutMs: timeoutMs,
    keepaliveMs: 0,
    actionTimeoutMs: timeoutMs,
    retryStrategy: () => null,
  });
  ami.onStatus((s) => {
    if (s.status === 'reconnecting') reason ??= s.reason;
  });
  ami.start();
  try {
    await ami.waitReady(timeoutMs + 1000);
  } catch {
    report('fix', 'AMI login', amiAdvice(reason ?? 'no answer', where, username, timeoutMs));
    ami.close();
    return;
  }
  try {
    let version = '';
    try {
      version = (await ami.action({ Action: 'CoreSettings' })).response.get('AsteriskVersion') ?? '';
    } catch (e) {
      if (!permissionDenied(e)) throw e;
      report('fix', 'AMI rights', `user ${username} may not run CoreSettings (write class system): ${MANAGER_HINT}`);
    }
    report('ok', 'AMI login', `logged in to ${where} as ${username}${version ? `, Asterisk ${version}` : ''}`);
    if (version) {
      const a = assessAsteriskVersion(version);
      report(VERSION_RESULT[a.support], 'Asterisk version', a.detail);
    }
    try {
      const drivers = await detectDriver(ami, config.ami.driver);
      const how = config.ami.driver === 'auto' ? 'detected' : 'set in api.conf';
      report('ok', 'channel driver', `${describeDrivers(drivers)}, ${how}`);
    } catch (e) {
      if (permissionDenied(e)) report('fix', 'channel driver', `user ${username} may not list SIP peers or PJSIP endpoints (write class system): ${MANAGER_HINT}`);
      else report('fix', 'channel driver', e instanceof Error ? e.message : String(e));
    }
  } catch (e) {
    report('fix', 'AMI', `Asterisk stopped answering: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    ami.close();
  }
}

/** Only a version the events cannot work on needs fixing; the rest works, with what the line names missing. */
const VERSION_RESULT: Record<AsteriskSupport, CheckLine['result']> = {
  supported: 'ok',
  limited: 'warn',
  untested: 'warn',
  unknown: 'warn',
  unsupported: 'fix',
};

function permissionDenied(e: unknown): boolean {
  return e instanceof AmiError && e.code === 'AMI_RESPONSE' && /permission denied/i.test(e.amiMessage ?? '');
}

/** AmiClient's close reason, in words an operator can act on. */
function amiAdvice(reason: string, where: string, username: string, timeoutMs: number): string {
  if (/login refused/.test(reason)) {
    return `Asterisk at ${where} refused user ${username} (${reason.replace(/^login refused: /, '')}): wrong secret or unknown user; check [ami] username and secret against manager.conf [${username}] secret, and its permit= lines`;
  }
  if (/ECONNREFUSED/.test(reason)) return `nothing listens on ${where}: is Asterisk running, with manager.conf [general] enabled=yes and port/bindaddr matching [ami] host and port?`;
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) return `cannot resolve the host in ${where}: check [ami] host`;
  if (/EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(reason)) return `cannot reach ${where} (${reason}): check [ami] host and any firewall between`;
  if (/no login answer/.test(reason)) return `${where} did not complete an AMI login within ${timeoutMs} ms: is that port really Asterisk's AMI (manager.conf port, usually 5038)?`;
  return `could not log in to ${where}: ${reason}`;
}

async function checkFolders(config: AgentConfig, report: Report): Promise<void> {
  const { monitor, spool } = config.paths;
  try {
    if (!(await stat(monitor)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await access(monitor, constants.R_OK | constants.X_OK);
    report('ok', 'recordings', `${monitor} is readable`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const fix =
      code === 'ENOENT'
        ? 'does not exist: set [paths] monitor to the folder MixMonitor writes to'
        : code === 'ENOTDIR'
          ? 'is not a folder: set [paths] monitor to the recordings folder'
          : 'cannot be read by this user: add it to the group that owns the recordings (usermod -aG asterisk coocenter) and make the folders group-readable (chmod -R g+rX)';
    report('fix', 'recordings', `${monitor} ${fix} (${code})`);
  }
  try {
    await mkdir(spool, { recursive: true });
    const probe = join(spool, `.check-${process.pid}`);
    await (await open(probe, 'wx')).close();
    await unlink(probe);
    report('ok', 'spool', `${spool} is writable`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    report('fix', 'spool', `${spool} is not writable by this user (${code}): create it owned by the agent's user (install -d -o coocenter -g coocenter -m 0750 ${spool})`);
  }
}

/** The box's own records the agent backfills gaps from, when api.conf names them. */
async function checkRecords(config: AgentConfig, report: Report): Promise<void> {
  const { cdr, queueLog } = backfillSources(config, BOX_ZONE);
  if (queueLog) {
    try {
      await access(queueLog, constants.R_OK);
      report('ok', 'queue_log', `${queueLog} is readable`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      report('fix', 'queue_log', code === 'ENOENT'
        ? `${queueLog} does not exist: check [paths] queue_log (Asterisk writes /var/log/asterisk/queue_log unless logger.conf queue_log = no)`
        : `${queueLog} is not readable by this user (${code}): add the agent's user to the asterisk group, or make the file group-readable`);
    }
  }
  if (cdr) {
    try {
      report('ok', 'call records', `${cdr.name}: ${await cdr.check()}`);
    } catch (e) {
      report('fix', 'call records', (e as Error).message);
    } finally {
      await cdr.close();
    }
  }
}

async function checkEdge(config: AgentConfig, tunnel: { edge: string; token: string }, timeoutMs: number, report: Report): Promise<void> {
  const base = tunnel.edge.replace(/\/+$/, '');
  const health = `${base.replace(/^ws/, 'http')}/healthz`;
  try {
    const res = await fetch(health, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      report('fix', 'edge', `${health} answered HTTP ${res.status}: is [tunnel] edge the edge's address (wss://host, no path)?`);
      return;
    }
    report('ok', 'edge', `${health} answers`);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    report('fix', 'edge', `cannot reach ${health} (${why}): check [tunnel] edge, DNS and that outbound HTTPS from this box is allowed`);
    return;
  }
  const mac = config.general.mac ?? firstNicMac();
  if (!mac) {
    report('fix', 'tunnel', 'no MAC address: set [general] mac in api.conf');
    return;
  }
  const outcome = await new Promise<{ ok: true } | { ok: false; status?: number; message: string }>((resolve) => {
    const ws = new WebSocket(`${base}/agent/tunnel`, {
      headers: { authorization: `Bearer ${tunnel.token}`, 'x-device-mac': mac },
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
    });
    ws.on('open', () => {
      // No hello: the edge only takes over a device's tunnel at hello, so a running agent stays connected.
      ws.close(1000, 'coocenter-agent --check');
      resolve({ ok: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ ok: false, status: res.statusCode ?? 0, message: `HTTP ${res.statusCode}` });
      ws.terminate();
    });
    ws.on('error', (e) => resolve({ ok: false, message: e.message }));
  });
  if (outcome.ok) report('ok', 'tunnel', `the edge accepts the token for ${mac}`);
  else if (outcome.status === 401) report('fix', 'tunnel', `the edge refused the token for ${mac} (401): [tunnel] token is not the one issued for this MAC; copy it from PUT /admin/devices/${mac} or rotate it with POST /admin/devices/${mac}/token`);
  else if (outcome.status === 400) report('fix', 'tunnel', `the edge refused ${mac} (400): check [general] mac`);
  else report('fix', 'tunnel', `the tunnel upgrade at ${base}/agent/tunnel failed (${outcome.message}): is [tunnel] edge the edge's address?`);
}

/** The printed form: `ok    subject: detail`, `FIX   ...`, `warn  ...`. */
export function formatCheckLine(l: CheckLine): string {
  return `${(l.result === 'fix' ? 'FIX' : l.result).padEnd(5)} ${l.subject}: ${l.detail}`;
}
