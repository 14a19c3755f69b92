import { readFile } from 'node:fs/promises';
import { basename, isAbsolute } from 'node:path';
import ini from 'ini';
import { z } from 'zod';
import { normalizeMac } from '../shared/auth/mac.ts';

export interface AgentConfig {
  general: {
    bindPort: number;
    /** Customer URL for events in LAN mode. */
    url?: string;
    /** Unset when empty, commented or missing: the LAN API then needs no Authorization. */
    webkey?: string;
    /** Normalised `68:69:2e:03:8b:3e`; unset means the box's first NIC. */
    mac?: string;
    popUrl?: string;
    webhookSecret?: string;
    /** Browser origins allowed to call the LAN API (`*` allows any). */
    corsOrigins: string[];
  };
  enable: { pauseTime: boolean; wrapupSeconds: number };
  ami: {
    host: string;
    port: number;
    username: string;
    secret: string;
    context: string;
    /** e.g. `Local/{ext}@agents/n`; unset: the channel driver's interface. */
    memberInterface?: string;
    driver: 'auto' | 'sip' | 'pjsip';
  };
  /** Absent: LAN mode only. */
  tunnel?: { edge: string; token: string };
  paths: {
    monitor: string;
    spool: string;
    /** Asterisk's queue_log, read to backfill cc_cdr after a gap; unset: no queue backfill. */
    queueLog?: string;
    /** cdr_csv's Master.csv, read to backfill cdr after a gap. */
    cdrCsv?: string;
  };
  /** The MySQL/MariaDB CDR table (FreePBX's asteriskcdrdb.cdr), read instead of Master.csv. */
  cdrdb?: { host: string; port: number; user: string; password: string; database: string; table: string; socket?: string };
  backfill: {
    /** A gap longer than this is reported, not read (seconds). */
    maxWindowSeconds: number;
    /** cdr.conf `[csv] usegmtime=yes`: Master.csv's times are UTC, not the box's zone. */
    cdrCsvGmt: boolean;
  };
  /** Keys and sections this agent does not know (typos, or the old box's extras), with their lines. */
  warnings: string[];
}

/** A broken or incomplete api.conf; the message names the file, the line and the key. The caller exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export async function loadConfig(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseConfig(text, basename(path));
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const wsUrl = z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' });
/** Whole numbers as written: `z.coerce` would also take `0x1f` and `1e3`. */
const wholeNumber = (min: number, max: number, message: string) =>
  z.string().regex(/^\d+$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
const port = wholeNumber(1, 65535, 'must be a port number (1-65535)');
/** BINDPORT=0 asks the OS for any free port (tests, several agents on one host); the ready line says which. */
const listenPort = wholeNumber(0, 65535, 'must be a port number (1-65535, or 0 for any free port)');
const word = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _, . or -');
const text = z.string();
const absolutePath = z.string().refine(isAbsolute, 'must be an absolute path');
const yesNo = z
  .string()
  .toLowerCase()
  .pipe(z.enum(['yes', 'no', 'true', 'false', '1', '0', 'on', 'off'], { error: 'must be yes or no' }))
  .transform((v) => ['yes', 'true', '1', 'on'].includes(v));
const origin = z.string().refine((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o), 'must list origins such as https://crm.example.com (scheme and host, no path)');

interface Field {
  schema: z.ZodType<unknown>;
  /** Never echoed in an error message. */
  secret?: boolean;
  required?: boolean;
  default?: unknown;
}

/** Every key this agent reads, per section, lower case. */
const FIELDS: Record<string, Record<string, Field>> = {
  general: {
    bindport: { schema: listenPort, default: 8000 },
    url: { schema: httpUrl },
    webkey: { schema: text, secret: true },
    mac: {
      schema: z.string().transform((v, ctx) => {
        const mac = normalizeMac(v);
        if (mac) return mac;
        ctx.addIssue({ code: 'custom', message: 'must be a MAC address such as 68:69:2e:03:8b:3e' });
        return z.NEVER;
      }),
    },
    pop_url: { schema: httpUrl },
    webhook_secret: { schema: text, secret: true },
    cors_origins: { schema: z.string().transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)).pipe(z.array(origin)), default: [] },
  },
  enable: {
    pausetime: { schema: yesNo, default: false },
    wrapup_seconds: { schema: wholeNumber(1, 3600, 'must be a whole number of seconds (1-3600)'), default: 30 },
  },
  ami: {
    host: { schema: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address'), default: '127.0.0.1' },
    port: { schema: port, default: 5038 },
    username: { schema: text, required: true },
    secret: { schema: text, secret: true, required: true },
    context: { schema: word, default: 'from-internal' },
    member_interface: {
      schema: z.string().regex(/^[A-Za-z0-9_/@.{}-]+$/, 'must be a channel such as Local/{ext}@agents/n').refine((v) => v.includes('{ext}'), 'must contain {ext}, where the extension goes'),
    },
    driver: { schema: z.string().toLowerCase().pipe(z.enum(['auto', 'sip', 'pjsip'], { error: 'must be auto, sip or pjsip' })), default: 'auto' },
  },
  tunnel: {
    edge: { schema: wsUrl },
    token: { schema: text, secret: true },
  },
  paths: {
    monitor: { schema: absolutePath, default: '/var/spool/asterisk/monitor' },
    spool: { schema: absolutePath, default: '/var/lib/coocenter-agent' },
    queue_log: { schema: absolutePath },
    cdr_csv: { schema: absolutePath },
  },
  cdrdb: {
    host: { schema: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address'), default: '127.0.0.1' },
    port: { schema: port, default: 3306 },
    socket: { schema: absolutePath },
    user: { schema: text },
    password: { schema: text, secret: true },
    database: { schema: word, default: 'asteriskcdrdb' },
    table: { schema: word, default: 'cdr' },
  },
  backfill: {
    max_window: { schema: wholeNumber(60, 7 * 86_400, 'must be a whole number of seconds (60-604800)'), default: 86_400 },
    cdr_csv_usegmtime: { schema: yesNo, default: false },
  },
};

interface Entry {
  line: number;
  /** The key as written, for messages (BINDPORT, not bindport). */
  key: string;
  value: string;
}

/**
 * Reads api.conf. Comments are whole lines starting with `;` or `#`; a `;` or `#` after whitespace
 * starts an inline comment (docs/api.md "The api.conf example": `BINDPORT=8000   ; LAN REST API port of the agent`); any other
 * `;` or `#` is part of the value, so `WEBKEY=ab#cd;1` is `ab#cd;1`. `ini` would cut values at `;`
 * and `#`, so each value is handed to it as a line reference and read back from the line itself.
 */
export function parseConfig(source: string, name = 'api.conf'): AgentConfig {
  const entries = new Map<number, Entry>();
  const sectionLines = new Map<string, number>();
  const fail = (line: number, message: string) => new ConfigError(`${name} line ${line}: ${message}`);

  const prepared = source.split(/\r?\n/).map((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return '';
    const body = stripInlineComment(trimmed);
    if (body.startsWith('[')) {
      const m = /^\[\s*([A-Za-z0-9_-]+)\s*\]$/.exec(body);
      if (!m) throw fail(line, `'${body}' is not a section header such as [general]`);
      const section = m[1]!.toLowerCase();
      if (!sectionLines.has(section)) sectionLines.set(section, line);
      return `[${section}]`;
    }
    const eq = body.indexOf('=');
    const key = eq === -1 ? '' : body.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw fail(line, 'expected key=value (or a [section] header, or a comment starting with ; or #)');
    entries.set(line, { line, key, value: unquote(body.slice(eq + 1).trim()) });
    return `${key.toLowerCase()}=${line}`;
  });
  const parsed = ini.parse(prepared.join('\n')) as Record<string, unknown>;

  const warnings: string[] = [];
  const values: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, ref: unknown) => {
    const entry = entries.get(Number(ref))!;
    const field = Object.hasOwn(FIELDS, section) && Object.hasOwn(FIELDS[section]!, key) ? FIELDS[section]![key] : undefined;
    if (!field) {
      warnings.push(`${name} line ${entry.line}: unknown key ${entry.key} in [${section}], ignored`);
      return;
    }
    // Empty is absent: the document comments or empties WEBKEY to turn auth off.
    if (entry.value === '') return;
    const result = field.schema.safeParse(entry.value);
    if (!result.success) {
      const got = field.secret ? '' : `, got '${entry.value}'`;
      throw fail(entry.line, `${entry.key} ${result.error.issues[0]!.message}${got}`);
    }
    (values[section] ??= {})[key] = result.data;
  };
  for (const [k, v] of Object.entries(parsed)) {
    // Keys before any section header: the old box's file may have none, and its keys are [general]'s.
    if (typeof v === 'string') set('general', k, v);
    else if (!Object.hasOwn(FIELDS, k)) warnings.push(`${name} line ${sectionLines.get(k)}: unknown section [${k}], ignored`);
    else for (const [key, ref] of Object.entries(v as Record<string, unknown>)) set(k, key, ref);
  }

  for (const [section, fields] of Object.entries(FIELDS)) {
    for (const [key, field] of Object.entries(fields)) {
      const have = values[section]?.[key];
      if (have !== undefined) continue;
      if (field.required) {
        const at = sectionLines.get(section);
        throw new ConfigError(`${name}${at ? ` line ${at}` : ''}: [${section}] ${key} is required`);
      }
      if (field.default !== undefined) (values[section] ??= {})[key] = field.default;
    }
  }

  const g = values.general!;
  const e = values.enable!;
  const a = values.ami!;
  const t = values.tunnel ?? {};
  const p = values.paths!;
  const db = values.cdrdb;
  // [cdrdb] with only defaults (host, port, database, table) is not a source: it needs a user.
  if (db && db.user === undefined && sectionLines.has('cdrdb')) throw new ConfigError(`${name} line ${sectionLines.get('cdrdb')}: [cdrdb] user is required (a read-only MySQL user of the CDR database)`);
  if ((t.edge === undefined) !== (t.token === undefined)) {
    const missing = t.edge === undefined ? 'edge' : 'token';
    throw new ConfigError(`${name}${sectionLines.has('tunnel') ? ` line ${sectionLines.get('tunnel')}` : ''}: [tunnel] ${missing} is required when ${missing === 'edge' ? 'token' : 'edge'} is set`);
  }
  return {
    general: {
      bindPort: g.bindport as number,
      url: g.url as string | undefined,
      webkey: g.webkey as string | undefined,
      mac: g.mac as string | undefined,
      popUrl: g.pop_url as string | undefined,
      webhookSecret: g.webhook_secret as string | undefined,
      corsOrigins: g.cors_origins as string[],
    },
    enable: { pauseTime: e.pausetime as boolean, wrapupSeconds: e.wrapup_seconds as number },
    ami: {
      host: a.host as string,
      port: a.port as number,
      username: a.username as string,
      secret: a.secret as string,
      context: a.context as string,
      memberInterface: a.member_interface as string | undefined,
      driver: a.driver as AgentConfig['ami']['driver'],
    },
    tunnel: t.edge === undefined ? undefined : { edge: t.edge as string, token: t.token as string },
    paths: {
      monitor: p.monitor as string,
      spool: p.spool as string,
      ...(p.queue_log ? { queueLog: p.queue_log as string } : {}),
      ...(p.cdr_csv ? { cdrCsv: p.cdr_csv as string } : {}),
    },
    ...(db?.user !== undefined
      ? {
          cdrdb: {
            host: db.host as string,
            port: db.port as number,
            user: db.user as string,
            password: (db.password as string | undefined) ?? '',
            database: db.database as string,
            table: db.table as string,
            ...(db.socket ? { socket: db.socket as string } : {}),
          },
        }
      : {}),
    backfill: { maxWindowSeconds: values.backfill!.max_window as number, cdrCsvGmt: values.backfill!.cdr_csv_usegmtime as boolean },
    warnings,
  };
}

/** `;` or `#` after whitespace starts a comment; elsewhere it belongs to the value. */
function stripInlineComment(line: string): string {
  const m = /\s[;#]/.exec(line);
  return (m ? line.slice(0, m.index) : line).trim();
}

/** `WEBKEY="abc"` is `abc`, as the old box's PHP read it. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
