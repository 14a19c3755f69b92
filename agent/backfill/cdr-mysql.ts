import mysql from 'mysql2/promise';
import type { AgentConfig } from '../config.ts';
import { formatPbxTime, parsePbxTime } from '../events/time.ts';
import { cdrDbAddress, cdrDbName, type CdrRecord, type CdrSource } from './cdr-record.ts';

export type CdrDbConfig = NonNullable<AgentConfig['cdrdb']>;

export interface MysqlCdrOptions {
  /** Gives up on a database that does not complete the handshake (ms; 10 s). */
  connectTimeoutMs?: number;
  /** Gives up on a query that does not finish, and drops the connection (ms; 30 s). */
  queryTimeoutMs?: number;
}

/** The CdrRecord text fields read from columns of the same name; "" where the table lacks one. */
const TEXT_COLUMNS = [
  'accountcode',
  'src',
  'dst',
  'dcontext',
  'clid',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'disposition',
  'uniqueid',
  'linkedid',
  'userfield',
  'recordingfile',
  'did',
] as const;
/** Without these a record has no end: the table is not an Asterisk CDR table. */
const REQUIRED = ['calldate', 'duration'] as const;
const OPTIONAL = [...TEXT_COLUMNS, 'billsec', 'amaflags'] as const;

/** main/channel.c ast_channel_amaflags2string: what Asterisk shows for a numeric AMA flag. */
const AMA_FLAGS: Record<number, string> = { 1: 'OMIT', 2: 'BILLING', 3: 'DOCUMENTATION' };

const DAY_MS = 86_400_000;

/** The table's columns, lowercased name -> name as the table spells it, and its own row order. */
interface TableShape {
  columns: Map<string, string>;
  /** Columns that order rows of one calldate as they were written: `sequence`, an AUTO_INCREMENT id. */
  order: string[];
}

/**
 * FreePBX's CDR table in MySQL/MariaDB (`asteriskcdrdb.cdr`, written by cdr_adaptive_odbc or the
 * older cdr_mysql), read through one connection opened on demand and kept until close(). It only
 * reads: SHOW COLUMNS and SELECTs, values always as parameters; the user needs SELECT on the table
 * and nothing else.
 *
 * `calldate` is the call's start in the box's local time (a DATETIME: MySQL stores and returns it as
 * written, whatever the session's time_zone, so the session zone does not matter and is left as
 * the server sets it; only a TIMESTAMP column would be shown in it). It is read as text
 * (`dateStrings`, never a JavaScript Date in this process's zone) and converted with the box's
 * IANA `timeZone`, as the bounds of the query are.
 * The table has no answer or end column: end = calldate + duration, answer = end - billsec for an
 * ANSWERED call with billsec > 0, else "".
 */
export class MysqlCdrSource implements CdrSource {
  readonly name: string;
  private readonly where: string;
  private readonly qualified: string;
  private readonly connectTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private conn: Promise<mysql.Connection> | null = null;

  constructor(
    private readonly db: CdrDbConfig,
    private readonly timeZone: string,
    opts: MysqlCdrOptions = {},
  ) {
    this.where = cdrDbAddress(db);
    this.name = cdrDbName(db);
    this.qualified = `${mysql.escapeId(db.database)}.${mysql.escapeId(db.table)}`;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
  }

  async read(fromMs: number, toMs: number): Promise<CdrRecord[]> {
    if (!(toMs >= fromMs)) return [];
    return this.run(async (c) => {
      const shape = await this.shape(c);
      const col = (name: string) => shape.columns.get(name);
      const select = ['calldate', 'duration', ...OPTIONAL].filter((n) => col(n)).map((n) => `${mysql.escapeId(col(n)!)} AS ${mysql.escapeId(n)}`);
      const calldate = mysql.escapeId(col('calldate')!);
      const orderBy = [calldate, ...shape.order.map((n) => mysql.escapeId(n))].join(', ');
      // A call is in the window by its end, which the table does not keep: bound calldate by the
      // window (its index) from a day before, then keep the records whose end is in it. A call
      // longer than a day that ended in the window is not read.
      const sql = `SELECT ${select.join(', ')} FROM ${this.qualified} WHERE ${calldate} >= ? AND ${calldate} <= ? ORDER BY ${orderBy}`;
      const [rows] = await c.execute<mysql.RowDataPacket[]>({ sql, timeout: this.queryTimeoutMs }, [
        formatPbxTime(fromMs - DAY_MS, this.timeZone),
        formatPbxTime(toMs, this.timeZone),
      ]);
      const out: CdrRecord[] = [];
      for (const row of rows) {
        const r = this.record(row);
        if (r && r.endMs >= fromMs && r.endMs <= toMs) out.push(r);
      }
      return out;
    });
  }

  async check(): Promise<string> {
    return this.run(async (c) => {
      const shape = await this.shape(c);
      const missing = OPTIONAL.filter((n) => !shape.columns.has(n));
      const calldate = mysql.escapeId(shape.columns.get('calldate')!);
      const [rows] = await c.query<mysql.RowDataPacket[]>({
        sql: `SELECT COUNT(*) AS n, MAX(${calldate}) AS newest FROM ${this.qualified}`,
        timeout: this.queryTimeoutMs,
      });
      const n = Number(rows[0]?.n ?? 0);
      const newest = text(rows[0]?.newest).slice(0, 19);
      let found = `${n.toLocaleString('en-US')} record${n === 1 ? '' : 's'}${n > 0 && newest ? `, newest ${newest}` : ''}`;
      if (missing.length > 0) found += ` (no ${missing.join(', ')} column${missing.length === 1 ? '' : 's'}: read as "")`;
      return found;
    });
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    if (!conn) return;
    const c = await conn.catch(() => null);
    if (!c) return;
    // end() waits for the server's goodbye; a dead server would make it wait for ever.
    await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    c.destroy();
  }

  private connect(): Promise<mysql.Connection> {
    if (this.conn) return this.conn;
    const { db } = this;
    const conn = mysql
      .createConnection({
        ...(db.socket ? { socketPath: db.socket } : { host: db.host, port: db.port }),
        user: db.user,
        password: db.password,
        connectTimeout: this.connectTimeoutMs,
        // DATETIME as the text the table holds, never a JavaScript Date in this process's zone.
        dateStrings: true,
        supportBigNumbers: true,
        multipleStatements: false,
      })
      .then((c) => {
        // A connection that dies while idle (wait_timeout, a restarted server) is dropped; the next
        // call opens another. Without a listener its 'error' would be thrown.
        c.on('error', () => this.drop(conn));
        return c;
      });
    conn.catch(() => this.drop(conn));
    this.conn = conn;
    return conn;
  }

  private drop(conn: Promise<mysql.Connection>): void {
    if (this.conn === conn) this.conn = null;
    conn.then((c) => c.destroy()).catch(() => {});
  }

  /**
   * Runs `fn` on the connection. Each query has its timeout, and the whole of `fn` twice that:
   * mysql2 has none for the prepare step of execute(). A fatal error (connection lost, timed out)
   * drops the connection; when it was an old one, possibly closed by the server while idle, `fn` is
   * tried once more on a new one. Errors come out as explained().
   */
  private async run<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const reused = this.conn !== null;
      const conn = this.connect();
      let c: mysql.Connection | undefined;
      try {
        c = await conn;
        return await deadline(fn(c), 2 * this.queryTimeoutMs);
      } catch (err) {
        const e = err as mysql.QueryError;
        const fatal = c === undefined || e.fatal || e.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
        if (fatal) this.drop(conn);
        if (fatal && c !== undefined && reused && attempt === 0 && e.code !== 'PROTOCOL_SEQUENCE_TIMEOUT') continue;
        throw await this.explained(e, fatal ? undefined : c);
      }
    }
  }

  private async shape(c: mysql.Connection): Promise<TableShape> {
    const [rows] = await c.query<mysql.RowDataPacket[]>({ sql: `SHOW COLUMNS FROM ${this.qualified}`, timeout: this.queryTimeoutMs });
    const columns = new Map<string, string>();
    const order: string[] = [];
    let autoId: string | undefined;
    for (const row of rows) {
      const field = text(row.Field);
      columns.set(field.toLowerCase(), field);
      if (/auto_increment/i.test(text(row.Extra))) autoId = field;
    }
    const missing = REQUIRED.filter((n) => !columns.has(n));
    if (missing.length > 0) {
      throw new Error(
        `${this.name}: the table has no ${missing.join(', ')} column: it is not an Asterisk CDR table; set [cdrdb] table in api.conf to the table Asterisk writes its CDRs to (FreePBX: asteriskcdrdb.cdr)`,
      );
    }
    const sequence = columns.get('sequence');
    if (sequence) order.push(sequence);
    if (autoId) order.push(autoId);
    return { columns, order };
  }

  private record(row: mysql.RowDataPacket): CdrRecord | null {
    const start = text(row.calldate).slice(0, 19);
    const startMs = parsePbxTime(start, this.timeZone);
    if (!Number.isFinite(startMs)) return null;
    const duration = count(row.duration);
    const billsec = count(row.billsec);
    const disposition = text(row.disposition);
    const endMs = startMs + duration * 1000;
    const r: CdrRecord = {
      accountcode: '',
      src: '',
      dst: '',
      dcontext: '',
      clid: '',
      channel: '',
      dstchannel: '',
      lastapp: '',
      lastdata: '',
      start,
      answer: billsec > 0 && disposition === 'ANSWERED' ? formatPbxTime(endMs - billsec * 1000, this.timeZone) : '',
      end: formatPbxTime(endMs, this.timeZone),
      duration,
      billsec,
      disposition,
      amaflags: amaFlags(row.amaflags),
      uniqueid: '',
      linkedid: '',
      userfield: '',
      recordingfile: '',
      did: '',
      startMs,
      endMs,
    };
    for (const name of TEXT_COLUMNS) r[name] = text(row[name]);
    return r;
  }

  /** The error as an operator reads it: what failed, where, and what to change. */
  private async explained(err: mysql.QueryError | Error, live: mysql.Connection | undefined): Promise<Error> {
    const e = err as Partial<mysql.QueryError> & { sqlMessage?: string };
    if (!e.code) return err;
    const { db, name, where } = this;
    const target = `${mysql.escapeId(db.database)}.${mysql.escapeId(db.table)}`;
    const msg = e.sqlMessage ?? e.message ?? '';
    let fix: string;
    switch (e.code) {
      case 'ER_ACCESS_DENIED_ERROR':
      case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR': {
        const account = accountIn(msg) ?? `'${db.user}'@'<the agent's host>'`;
        fix =
          `access denied for ${account} (${/using password: NO/i.test(msg) ? 'no password given' : 'wrong password, or no such user for this host'}): ` +
          `check [cdrdb] user and password in api.conf; to create a read-only user: CREATE USER ${account} IDENTIFIED BY '...'; GRANT SELECT ON ${target} TO ${account};`;
        break;
      }
      case 'ER_DBACCESS_DENIED_ERROR':
      case 'ER_TABLEACCESS_DENIED_ERROR':
      case 'ER_COLUMNACCESS_DENIED_ERROR': {
        const account = (await currentUser(live, this.queryTimeoutMs)) ?? accountIn(msg) ?? `'${db.user}'@'%'`;
        fix =
          `${account} may not read ${db.database}.${db.table} (${msg}): give it SELECT, and only SELECT: GRANT SELECT ON ${target} TO ${account}; ` +
          `(the server says the same of a table that does not exist: check [cdrdb] database and table in api.conf)`;
        break;
      }
      case 'ER_BAD_DB_ERROR':
        fix = `there is no database ${db.database}: set [cdrdb] database in api.conf to the one Asterisk writes its CDRs to (FreePBX: asteriskcdrdb)`;
        break;
      case 'ER_NO_SUCH_TABLE':
        fix = `there is no table ${db.database}.${db.table}: set [cdrdb] database and table in api.conf to where Asterisk writes its CDRs (FreePBX: asteriskcdrdb.cdr; see cdr_adaptive_odbc.conf or cdr_mysql.conf)`;
        break;
      case 'ECONNREFUSED':
        fix = `connection refused: is MySQL/MariaDB running and listening on ${where}? Check [cdrdb] host and port in api.conf (or socket=, e.g. /var/run/mysqld/mysqld.sock)`;
        break;
      case 'ENOENT':
        fix = `no socket ${where}: is MySQL/MariaDB running? Check [cdrdb] socket in api.conf (the server's socket= in my.cnf)`;
        break;
      case 'EACCES':
        fix = `this user may not open the socket ${where}: run the agent as a user that may, or use host and port in [cdrdb]`;
        break;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        fix = `cannot resolve the host ${db.host}: check [cdrdb] host in api.conf`;
        break;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        fix = `the server did not answer within ${span(this.connectTimeoutMs)} (${e.code}): is it up, and is ${where} the right address? Check [cdrdb] host and port in api.conf and any firewall`;
        break;
      case 'PROTOCOL_SEQUENCE_TIMEOUT':
        fix = `a query did not finish within ${span(this.queryTimeoutMs)}: the database is overloaded or the table is locked (e.g. a long REPAIR or ALTER); try again later`;
        break;
      case 'PROTOCOL_CONNECTION_LOST':
      case 'ECONNRESET':
      case 'EPIPE':
        fix = `the server closed the connection (${e.code}): was it restarted, or does it refuse this host? Try again; check the server's error log`;
        break;
      default:
        fix = `${msg || e.code} (${e.code})`;
    }
    const out = new Error(`${name}: ${fix}`, { cause: err });
    return out;
  }
}

/** `work`, or a fatal PROTOCOL_SEQUENCE_TIMEOUT after `ms`, as mysql2's own query timeout. */
function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT', fatal: true })), ms);
  });
  work.catch(() => {});
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** `'user'@'host'` as the server names the account in an access error. */
function accountIn(message: string): string | undefined {
  return /('[^']*'@'[^']*')/.exec(message)?.[1];
}

/** The account the server matched (`'cdr'@'%'`), which a GRANT must name; undefined if unknown. */
async function currentUser(c: mysql.Connection | undefined, timeout: number): Promise<string | undefined> {
  if (!c) return undefined;
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>({ sql: 'SELECT CURRENT_USER() AS account', timeout });
    const account = text(rows[0]?.account);
    const at = account.lastIndexOf('@');
    return at < 0 ? undefined : `'${account.slice(0, at)}'@'${account.slice(at + 1)}'`;
  } catch {
    return undefined;
  }
}

function span(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/** duration and billsec: whole seconds in FreePBX's table, but some tables keep them as floats or NULL. */
function count(v: unknown): number {
  const n = Number(text(v) || 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** An int column (FreePBX) holds Asterisk's enum; a text column (older tables) holds the name already. */
function amaFlags(v: unknown): string {
  const s = text(v).trim();
  if (!/^\d+$/.test(s)) return s;
  return AMA_FLAGS[Number(s)] ?? 'Unknown';
}
