import { parseArgs } from 'node:util';
import { MIXED_DRIVERS, startPbxSim, type CdrCsvOptions, type QueueLogOptions } from './index.ts';
import { checkTimeZone } from './record-files.ts';

const HELP = `coocenter-pbxsim: an AMI-speaking PBX simulator (Asterisk 20 as recorded in test/fixtures/ami)

Usage: coocenter-pbxsim [options]
  --port N          AMI port (default 5038; 0 picks a free one)
  --host ADDR       listen address (default 127.0.0.1)
  --user NAME       AMI username (default coocenter)
  --secret S        AMI secret (default coocenter)
  --driver D        sip (chan_sip), pjsip, or mixed (800-804 SIP, 805-809 PJSIP) (default sip)
  --asterisk-version V  what CoreSettings reports (default 20.20.1; below 13.8 drops newer headers)
  --time-scale F    1 = real time, 0.02 = 50x faster (default 1)
  --timestamp-events  add Timestamp: to every event (timestampevents=yes)
  --recordings DIR  write MixMonitor files below DIR
  --queue-log FILE  append app_queue's queue_log to FILE (QUEUESTART, then a line per queue event)
  --queue-log-option NAME=yes|no  queues.conf [general]: log_membername_as_agent, log-caller-id-name
                    (both no by default; repeat the option for each)
  --cdr-csv FILE    append cdr_csv's Master.csv to FILE (a line per CDR)
  --cdr-csv-option NAME=yes|no  cdr.conf [csv]: loguniqueid, loguserfield, newcdrcolumns (yes by
                    default here), usegmtime (no); repeat the option for each
  --time-zone ZONE  the box's zone for Master.csv dates (IANA name; default the process's, TZ)
  --help            this text

Prints "AMI listening on <host>:<port>" when ready. Scenarios: see test/pbxsim/README.md (Sim* actions).`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '5038' },
      host: { type: 'string', default: '127.0.0.1' },
      user: { type: 'string', default: 'coocenter' },
      secret: { type: 'string', default: 'coocenter' },
      driver: { type: 'string', default: 'sip' },
      'time-scale': { type: 'string', default: '1' },
      'timestamp-events': { type: 'boolean', default: false },
      recordings: { type: 'string' },
      'asterisk-version': { type: 'string' },
      'queue-log': { type: 'string' },
      'queue-log-option': { type: 'string', multiple: true },
      'cdr-csv': { type: 'string' },
      'cdr-csv-option': { type: 'string', multiple: true },
      'time-zone': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got ${args.port}`);
if (args.driver !== 'sip' && args.driver !== 'pjsip' && args.driver !== 'mixed') fail(`--driver must be sip, pjsip or mixed, got ${args.driver}`);
const timeScale = Number(args['time-scale']);
if (!(timeScale > 0)) fail(`--time-scale must be a number > 0, got ${args['time-scale']}`);

/** `name=yes` pairs into options, by the config file's option names. */
function configOptions<T>(flag: string, values: string[] | undefined, names: Record<string, keyof T>): Partial<T> {
  const out: Partial<Record<keyof T, boolean>> = {};
  for (const v of values ?? []) {
    const m = /^([\w-]+)=(yes|no|true|false|1|0|on|off)$/i.exec(v);
    const key = m ? names[(m[1] as string).toLowerCase()] : undefined;
    if (!m || key === undefined) fail(`--${flag} must be one of ${Object.keys(names).join(', ')} =yes|no, got ${v}`);
    out[key] = /^(yes|true|1|on)$/i.test(m[2] as string);
  }
  return out as Partial<T>;
}
const queueLog = configOptions<QueueLogOptions>('queue-log-option', args['queue-log-option'], {
  log_membername_as_agent: 'logMembernameAsAgent',
  'log-caller-id-name': 'logCallerIdName',
});
const cdrCsv = configOptions<CdrCsvOptions>('cdr-csv-option', args['cdr-csv-option'], {
  loguniqueid: 'loguniqueid',
  loguserfield: 'loguserfield',
  newcdrcolumns: 'newcdrcolumns',
  usegmtime: 'usegmtime',
});
const timeZone = args['time-zone'];
if (timeZone !== undefined) {
  try {
    checkTimeZone(timeZone);
  } catch {
    fail(`--time-zone must be an IANA time zone, got ${timeZone}`);
  }
}

const sim = await startPbxSim({
  port,
  host: args.host,
  user: args.user,
  secret: args.secret,
  driver: args.driver === 'mixed' ? 'sip' : args.driver,
  drivers: args.driver === 'mixed' ? MIXED_DRIVERS : undefined,
  asteriskVersion: args['asterisk-version'],
  timeScale,
  timestampEvents: args['timestamp-events'],
  recordingsDir: args.recordings,
  queueLogFile: args['queue-log'],
  queueLog,
  cdrCsvFile: args['cdr-csv'],
  cdrCsv,
  timeZone,
});
process.stdout.write(`AMI listening on ${sim.host}:${sim.port}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  void sim.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
