import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READ_EVENTS } from '../../agent/events/translate.ts';
import { recordedMessages } from '../support/ami-events.ts';
import { transcriptNames, type Driver } from '../support/transcript.ts';

/**
 * deploy/manager.conf.example gives the agent's AMI user the least rights it needs: the read classes
 * of every event the agent reads, the write classes of every action it sends, nothing more, and
 * comments that say per class what needs it.
 *
 * How Asterisk checks them (main/manager.c): an event reaches a user only if the user's read classes
 * hold every class the event carries (process_events: `(send_events & category) == category`); an
 * action runs if the user's write classes hold any one of the classes it was registered with
 * (`writeperm & authority`), or if it was registered with 0.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONF = readFileSync(join(ROOT, 'deploy/manager.conf.example'), 'utf8');

/** manager.conf's class names (main/manager.c perms[]); `all` and `none` are not granted by this file. */
const CLASSES = new Set([
  'system', 'call', 'log', 'verbose', 'command', 'agent', 'user', 'config', 'dtmf', 'reporting',
  'cdr', 'dialplan', 'originate', 'agi', 'cc', 'aoc', 'test', 'security', 'message',
]);

/**
 * Events the agent reads that no recording has: their class from Asterisk's source (the same in
 * 13.38, 16.30, 18.26, 20.20.1 and master).
 */
const EVENT_CLASSES_FROM_SOURCE: Readonly<Record<string, readonly string[]>> = {
  // main/pickup.c: ast_manager_event_blob_create(EVENT_FLAG_CALL, "Pickup", ...), documented as
  // <managerEventInstance class="EVENT_FLAG_CALL">.
  Pickup: ['call'],
};

/**
 * Events the agent reads only as items of an action's answer: Asterisk writes them into the answer
 * with astman_append, to the asking session whatever its read classes, and without a Privilege header.
 */
const ANSWER_ITEMS: Readonly<Record<string, string>> = {
  // apps/app_queue.c manager_queues_status: astman_append(s, "Event: QueueParams\r\n" ...)
  QueueParams: 'QueueStatus',
  // apps/app_queue.c manager_queues_status: astman_append(s, "Event: QueueMember\r\n" ...)
  QueueMember: 'QueueStatus',
};

/**
 * Every action the agent sends -> the classes Asterisk registers it with (any one suffices; [] is a
 * registration with 0: anyone logged in may run it, and Login/Challenge/Logoff even before that).
 * From ast_manager_register_xml[_core](name, flags, ...) in the files named; the same in Asterisk
 * 13.38, 16.30, 18.26, 20.20.1 and master, where the action exists (DBGetTree from 16.28, 18.14
 * and 20.0; PJSIPShowContacts from 16.0; chan_sip's up to 20).
 */
const ACTION_CLASSES: Readonly<Record<string, readonly string[]>> = {
  Login: [], // main/manager.c: ("Login", 0, action_login)
  Challenge: [], // main/manager.c: ("Challenge", 0, action_challenge)
  Logoff: [], // main/manager.c: ("Logoff", 0, action_logoff)
  Ping: [], // main/manager.c: ("Ping", 0, action_ping)
  QueueStatus: [], // apps/app_queue.c: ("QueueStatus", 0, manager_queues_status)
  CoreSettings: ['system', 'reporting'], // main/manager.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING
  CoreShowChannels: ['system', 'reporting'], // main/manager.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING
  Hangup: ['system', 'call'], // main/manager.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_CALL
  Setvar: ['call'], // main/manager.c: EVENT_FLAG_CALL
  Redirect: ['call'], // main/manager.c: EVENT_FLAG_CALL
  Originate: ['originate'], // main/manager.c: EVENT_FLAG_ORIGINATE (ChanSpy needs no more: is_originate_app_permitted)
  Command: ['command'], // main/manager.c: EVENT_FLAG_COMMAND
  DBPut: ['system'], // main/db.c: EVENT_FLAG_SYSTEM
  DBDel: ['system'], // main/db.c: EVENT_FLAG_SYSTEM
  DBGetTree: ['system', 'reporting'], // main/db.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING
  ExtensionStateList: ['call', 'reporting'], // main/extension_state.c (main/pbx.c in 13-16): EVENT_FLAG_CALL | EVENT_FLAG_REPORTING
  QueueAdd: ['agent'], // apps/app_queue.c: EVENT_FLAG_AGENT
  QueueRemove: ['agent'], // apps/app_queue.c: EVENT_FLAG_AGENT
  QueuePause: ['agent'], // apps/app_queue.c: EVENT_FLAG_AGENT
  SIPpeers: ['system', 'reporting'], // channels/chan_sip.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING
  SIPshowpeer: ['system', 'reporting'], // channels/chan_sip.c: EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING
  PJSIPShowEndpoints: ['system'], // res/res_pjsip/pjsip_configuration.c: (AMI_SHOW_ENDPOINTS, EVENT_FLAG_SYSTEM, ...)
  PJSIPShowEndpoint: ['system'], // res/res_pjsip/pjsip_configuration.c: (AMI_SHOW_ENDPOINT, EVENT_FLAG_SYSTEM, ...)
  PJSIPShowContacts: ['system'], // res/res_pjsip/pjsip_options.c: EVENT_FLAG_SYSTEM
};

/**
 * Classes the file may grant although nothing needs them, each with the reason its comments give.
 * None today: a class lands here only together with a comment in the file that says why.
 */
const EXTRA_CLASSES: { read: Readonly<Record<string, string>>; write: Readonly<Record<string, string>> } = { read: {}, write: {} };

// ---------------------------------------------------------------------------------------------
// What the agent reads and sends, from its own code.

/** The agent's source files (not its tests), path relative to the repo -> text. */
function agentSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(join(ROOT, 'agent'), { recursive: true }) as string[]) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) out.set(`agent/${f.split('\\').join('/')}`, readFileSync(join(ROOT, 'agent', f), 'utf8'));
  }
  return out;
}
const SOURCES = agentSources();

/**
 * The actions the agent sends: every `Action: '<name>'` literal in agent/, and the names driver.ts
 * passes to its countItems(ami, '<action>', ...). Any other `Action:` not followed by a literal is
 * an action this scan cannot see, and fails the test until it is taught here.
 */
function sentActions(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  const note = (name: string, file: string) => where.set(name, [...new Set([...(where.get(name) ?? []), file])]);
  const dynamicSites: Record<string, string> = { 'agent/ami/writer.ts': 'string', 'agent/ami/driver.ts': 'action' };
  for (const [file, text] of SOURCES) {
    for (const m of text.matchAll(/\bAction:\s*(['"`])([A-Za-z]+)\1/g)) note(m[2] as string, file);
    for (const m of text.matchAll(/\bAction:\s*(?!['"`])([\w.$]+)/g)) {
      if (dynamicSites[file] !== m[1]) throw new Error(`${file}: \`Action: ${m[1]}\` is not a literal; teach sentActions() which actions it sends`);
    }
    if (file === 'agent/ami/driver.ts') for (const m of text.matchAll(/countItems\(ami, '([A-Za-z]+)'/g)) note(m[1] as string, file);
  }
  return where;
}
const SENT = sentActions();

/** Event names the agent's event code switches on or compares with (agent/events/, agent/toolbar.ts). */
function eventNamesInCode(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of SOURCES) {
    if (!file.startsWith('agent/events/') && file !== 'agent/toolbar.ts') continue;
    // CamelCase only: `case 'QUEUESTATUS':` is a variable's name, lower-case cases are not AMI's.
    for (const m of text.matchAll(/\bcase '([A-Z][a-z][A-Za-z]*)':|\bevent\s*[!=]==\s*'([A-Z][a-z][A-Za-z]*)'/g)) out.set((m[1] ?? m[2]) as string, file);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The classes events carry, from the recordings.

/** Event -> its classes, over every recording of both drivers; `null` when it came without Privilege. */
function recordedEventClasses(): Map<string, Set<string> | null> {
  const out = new Map<string, Set<string> | null>();
  for (const driver of ['chan_sip', 'pjsip'] as Driver[]) {
    for (const name of transcriptNames(driver)) {
      for (const m of recordedMessages(driver, name)) {
        const event = m.event;
        if (event === undefined) continue;
        const privilege = m.get('Privilege');
        if (privilege === undefined) {
          if (!out.has(event)) out.set(event, null);
          continue;
        }
        const classes = privilege.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'all');
        out.set(event, new Set([...(out.get(event) ?? []), ...classes]));
      }
    }
  }
  return out;
}
const RECORDED = recordedEventClasses();

/** The classes an event the agent reads needs: [] for an answer item, undefined when nobody knows. */
function eventClasses(event: string): readonly string[] | undefined {
  if (event in ANSWER_ITEMS) return [];
  const recorded = RECORDED.get(event);
  if (recorded) return [...recorded];
  return EVENT_CLASSES_FROM_SOURCE[event];
}

// ---------------------------------------------------------------------------------------------
// The file.

interface ClassEntry {
  cls: string;
  /** Event or action names the entry lists: its text outside (...) and `...`. */
  names: string[];
}
interface Grant {
  classes: string[];
  /** The per-class comment lines above the grant. */
  entries: ClassEntry[];
  /** Names on a comment line above the grant that says they need no class. */
  noClass: string[];
}

function listedNames(text: string): string[] {
  let t = text.replace(/`[^`]*`/g, ' ');
  for (let prev = ''; prev !== t; ) [prev, t] = [t, t.replace(/\([^()]*\)/g, ' ')];
  return [...t.matchAll(/\b[A-Z][A-Za-z]+\b/g)].map((m) => m[0]);
}

/** The [coocenter] section's `read =` and `write =`, with the comment lines above each. */
function parseUser(text: string): { read: Grant; write: Grant } {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === '[coocenter]');
  if (start < 0) throw new Error('deploy/manager.conf.example has no [coocenter] section');
  const grants: Partial<Record<'read' | 'write', Grant>> = {};
  let entries: { cls: string; text: string }[] = [];
  let noClass: string[] = [];
  let open = false;
  for (const line of lines.slice(start + 1)) {
    if (/^\s*\[/.test(line)) break;
    const entry = /^; {3}([a-z]+) {2,}(\S.*)$/.exec(line);
    if (entry && CLASSES.has(entry[1] as string)) {
      entries.push({ cls: entry[1] as string, text: entry[2] as string });
      open = true;
      continue;
    }
    const more = /^; {5,}(\S.*)$/.exec(line);
    if (open && more) {
      (entries[entries.length - 1] as { text: string }).text += ' ' + (more[1] as string);
      continue;
    }
    open = false;
    if (line.startsWith(';')) {
      if (/\bneeds? no class\b/.test(line)) noClass.push(...listedNames(line));
      continue;
    }
    const grant = /^\s*(read|write)\s*=\s*(.*)$/.exec(line);
    if (!grant) continue;
    const key = grant[1] as 'read' | 'write';
    if (grants[key]) throw new Error(`[coocenter] has a second \`${key} =\`; Asterisk keeps only the last`);
    grants[key] = {
      classes: (grant[2] as string).split(',').map((c) => c.trim()).filter((c) => c !== ''),
      entries: entries.map((e) => ({ cls: e.cls, names: listedNames(e.text) })),
      noClass,
    };
    entries = [];
    noClass = [];
  }
  if (!grants.read || !grants.write) throw new Error('[coocenter] needs one `read =` and one `write =` line');
  return { read: grants.read, write: grants.write };
}
const USER = parseUser(CONF);

// ---------------------------------------------------------------------------------------------

describe('deploy/manager.conf.example: what the agent finds in its code', () => {
  it('reads the events its event code switches on (READ_EVENTS covers the toolbar and the wrap-up)', () => {
    const found = eventNamesInCode();
    expect(found.size).toBeGreaterThan(20);
    const unread = [...found].filter(([e]) => !READ_EVENTS.has(e)).map(([e, f]) => `${e} (${f})`);
    expect(unread, 'events the code handles that agent/events/translate.ts READ_EVENTS leaves out').toEqual([]);
  });

  it('sends actions the scan sees, each in ACTION_CLASSES with its registration', () => {
    for (const a of ['Originate', 'QueuePause', 'DBPut', 'Command', 'SIPpeers', 'PJSIPShowEndpoints', 'Login']) expect(SENT.has(a), a).toBe(true);
    const unknown = [...SENT].filter(([a]) => !(a in ACTION_CLASSES)).map(([a, files]) => `${a} (${files.join(', ')})`);
    expect(unknown, "actions with no class in ACTION_CLASSES: add each one's ast_manager_register_xml flags from Asterisk's source").toEqual([]);
    const stale = Object.keys(ACTION_CLASSES).filter((a) => !SENT.has(a));
    expect(stale, 'ACTION_CLASSES names actions the agent no longer sends').toEqual([]);
    expect(ACTION_CLASSES.Command).toEqual(['command']);
  });

  it('knows the class of every event it reads, from a recording or else from the source', () => {
    const unknown = [...READ_EVENTS].filter((e) => eventClasses(e) === undefined);
    expect(unknown, 'events in no recording (with a Privilege) and not in EVENT_CLASSES_FROM_SOURCE / ANSWER_ITEMS: look up their class in Asterisk').toEqual([]);
    // The tables only fill what the recordings lack, and say nothing a recording contradicts.
    for (const e of Object.keys(EVENT_CLASSES_FROM_SOURCE)) {
      expect(READ_EVENTS.has(e), `${e} in EVENT_CLASSES_FROM_SOURCE is not read`).toBe(true);
      expect(RECORDED.get(e), `${e} is recorded now: drop it from EVENT_CLASSES_FROM_SOURCE`).toBeFalsy();
    }
    for (const [e, action] of Object.entries(ANSWER_ITEMS)) {
      expect(READ_EVENTS.has(e), `${e} in ANSWER_ITEMS is not read`).toBe(true);
      expect(RECORDED.get(e), `${e} is recorded with a Privilege: it is a real event, not only ${action}'s answer`).toBeFalsy();
      expect(SENT.has(action), `${e} comes in the answer to ${action}, which the agent does not send`).toBe(true);
    }
  });
});

describe('deploy/manager.conf.example: read', () => {
  const read = new Set(USER.read.classes);

  it('names only classes Asterisk knows', () => {
    expect(USER.read.classes.filter((c) => !CLASSES.has(c))).toEqual([]);
  });

  it('has the class of every event the agent reads', () => {
    const missing = [...READ_EVENTS].flatMap((e) => (eventClasses(e) ?? []).filter((c) => !read.has(c)).map((c) => `${e} needs read class ${c}`));
    expect(missing, `read = ${USER.read.classes.join(',')}`).toEqual([]);
  });

  it('has no class that no event the agent reads carries', () => {
    const needed = new Set([...READ_EVENTS].flatMap((e) => eventClasses(e) ?? []));
    const extra = USER.read.classes.filter((c) => !needed.has(c) && !(c in EXTRA_CLASSES.read));
    expect(extra, 'read classes nothing needs: drop them, or say why in the file and in EXTRA_CLASSES').toEqual([]);
  });

  it('lists per class the events that need it, truly and completely', () => {
    const entries = USER.read.entries;
    expect(entries.map((e) => e.cls).sort(), 'one comment line per granted read class').toEqual([...read].sort());
    const wrong = entries.flatMap((e) =>
      e.names.filter((n) => !READ_EVENTS.has(n) || !(eventClasses(n) ?? []).includes(e.cls)).map((n) => `${n} under ${e.cls}: ${READ_EVENTS.has(n) ? `carries ${(eventClasses(n) ?? []).join(',') || 'no class'}` : 'the agent does not read it'}`),
    );
    expect(wrong).toEqual([]);
    const listed = new Set(entries.flatMap((e) => e.names));
    const unlisted = [...READ_EVENTS].filter((e) => (eventClasses(e) ?? []).length > 0 && !listed.has(e));
    expect(unlisted, 'events the agent reads that the read comments do not name').toEqual([]);
  });
});

describe('deploy/manager.conf.example: write', () => {
  const write = new Set(USER.write.classes);
  const needing = [...SENT.keys()].filter((a) => (ACTION_CLASSES[a] ?? []).length > 0);

  it('names only classes Asterisk knows', () => {
    expect(USER.write.classes.filter((c) => !CLASSES.has(c))).toEqual([]);
  });

  it('lets every action the agent sends run', () => {
    const missing = needing.filter((a) => !(ACTION_CLASSES[a] as string[]).some((c) => write.has(c))).map((a) => `${a} needs write class ${(ACTION_CLASSES[a] as string[]).join(' or ')}`);
    expect(missing, `write = ${USER.write.classes.join(',')}`).toEqual([]);
  });

  it('has no class the actions could do without', () => {
    const extra = USER.write.classes.filter((c) => {
      const without = new Set(USER.write.classes.filter((x) => x !== c));
      return !(c in EXTRA_CLASSES.write) && needing.every((a) => (ACTION_CLASSES[a] as string[]).some((x) => without.has(x)));
    });
    expect(extra, 'write classes every action runs without: drop them, or say why in the file and in EXTRA_CLASSES').toEqual([]);
  });

  it('lists per class the actions that need it, truly and completely', () => {
    const entries = USER.write.entries;
    expect(entries.map((e) => e.cls).sort(), 'one comment line per granted write class').toEqual([...write].sort());
    const wrong = entries.flatMap((e) =>
      e.names.filter((n) => !SENT.has(n) || !(ACTION_CLASSES[n] ?? []).includes(e.cls)).map((n) => `${n} under ${e.cls}: ${SENT.has(n) ? `registered with ${(ACTION_CLASSES[n] ?? []).join(' | ') || '0'}` : 'the agent does not send it'}`),
    );
    expect(wrong).toEqual([]);
    const listed = new Set(entries.flatMap((e) => e.names));
    expect(needing.filter((a) => !listed.has(a)), 'actions the agent sends that the write comments do not name').toEqual([]);
    const free = [...SENT.keys()].filter((a) => (ACTION_CLASSES[a] ?? []).length === 0);
    expect([...USER.write.noClass].sort(), 'the "need no class" line names exactly the actions registered with 0').toEqual(free.sort());
  });
});
