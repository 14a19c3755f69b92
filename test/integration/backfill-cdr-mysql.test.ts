import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MysqlCdrSource, type CdrDbConfig } from '../../agent/backfill/cdr-mysql.ts';
import { parsePbxTime } from '../../agent/events/time.ts';
import { createCdrTable, createReadOnlyUser, FREEPBX_CDR_COLUMNS, insertCdrs, startMariaDb, type MariaDb } from '../support/mariadb.ts';

// The box's zone; the server runs in another (+09:00), which must not matter for DATETIME.
const TZ = 'Europe/Berlin';
const at = (text: string) => parsePbxTime(text, TZ);

let db: MariaDb;
const sources: MysqlCdrSource[] = [];

function source(o: Partial<CdrDbConfig> = {}, opts: ConstructorParameters<typeof MysqlCdrSource>[2] = {}): MysqlCdrSource {
  const s = new MysqlCdrSource(
    { host: '127.0.0.1', port: db.port, user: 'cdrreader', password: 'reader-pw', database: 'asteriskcdrdb', table: 'cdr', ...o },
    TZ,
    { connectTimeoutMs: 5000, queryTimeoutMs: 5000, ...opts },
  );
  sources.push(s);
  return s;
}

/** Statements that change data or schema, server-wide: none may come from the source. */
async function writes(): Promise<Record<string, number>> {
  const rows = await db.query<{ Variable_name: string; Value: string }[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert', 'Com_update', 'Com_delete', 'Com_replace', 'Com_truncate', 'Com_create_table', 'Com_alter_table', 'Com_drop_table', 'Com_lock_tables', 'Com_grant')",
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

const base = { clid: '"Alice" <201>', src: '201', dcontext: 'from-internal', channel: 'PJSIP/201-00000001', lastapp: 'Dial', amaflags: 3, accountcode: 'sales' };

beforeAll(async () => {
  db = await startMariaDb({ args: ['--default-time-zone=+09:00'] });
  console.log(`MariaDB started in ${db.startedInMs} ms (install-db and start)`);
  await createCdrTable(db);
  // Asterisk 1.8's contrib table as older installs have it: no linkedid, recordingfile, did or
  // sequence; an AUTO_INCREMENT id; amaflags as text.
  await createCdrTable(db, {
    table: 'cdr_old',
    columns: {
      id: 'int(11) NOT NULL AUTO_INCREMENT',
      ...Object.fromEntries(Object.entries(FREEPBX_CDR_COLUMNS).filter(([n]) => !['linkedid', 'recordingfile', 'did', 'sequence', 'cnum', 'cnam', 'outbound_cnum', 'outbound_cnam', 'dst_cnam', 'peeraccount'].includes(n))),
      amaflags: "varchar(20) NOT NULL DEFAULT ''",
    },
  });
  await createReadOnlyUser(db, { user: 'cdrreader', password: 'reader-pw' });
  await db.query("GRANT SELECT ON `asteriskcdrdb`.`cdr_old` TO 'cdrreader'@'%'");
  await createReadOnlyUser(db, { user: 'nogrant', password: 'pw', grant: null });
  await createReadOnlyUser(db, { user: 'freepbxuser', password: 'pw', grant: 'asteriskcdrdb.*' });

  // Inserted out of calldate order, as a table written by several channels may be; the same
  // calldate twice, ordered by sequence (Asterisk's CDR counter), not by insertion.
  await insertCdrs(db, [
    // Ends 10:05, started before the window: in.
    { ...base, calldate: '2026-03-10 09:50:00', dst: '300', duration: 900, billsec: 840, disposition: 'ANSWERED', uniqueid: '1773132600.1', linkedid: '1773132600.1', recordingfile: 'out-300-201-20260310-095000-1773132600.1.wav', did: '', dstchannel: 'PJSIP/300-00000002', lastdata: 'PJSIP/300,,Tt', userfield: 'vip', sequence: 1 },
    // Busy: same calldate as the next, a higher sequence, inserted first.
    { ...base, calldate: '2026-03-10 10:30:00', dst: '302', duration: 5, billsec: 0, disposition: 'BUSY', uniqueid: '1773135000.5', linkedid: '1773135000.4', sequence: 5, amaflags: 2 },
    { ...base, calldate: '2026-03-10 10:30:00', dst: '301', duration: 20, billsec: 0, disposition: 'NO ANSWER', uniqueid: '1773135000.4', linkedid: '1773135000.4', sequence: 4, did: '4930123456' },
    // Ended 09:40, before the window: out.
    { ...base, calldate: '2026-03-10 09:30:00', dst: '303', duration: 600, billsec: 590, disposition: 'ANSWERED', uniqueid: '1773131400.2', sequence: 2 },
    // Started 23.5 hours before the window, ends on its first second: in.
    { ...base, calldate: '2026-03-09 10:30:00', dst: '304', duration: 84_600, billsec: 84_000, disposition: 'ANSWERED', uniqueid: '1773048600.0', sequence: 0 },
    // Ends 11:00:20, after the window: out.
    { ...base, calldate: '2026-03-10 10:59:50', dst: '305', duration: 30, billsec: 25, disposition: 'ANSWERED', uniqueid: '1773136790.6', sequence: 6 },
    // Ends on the window's last second (a failed call of no duration): in.
    { ...base, calldate: '2026-03-10 11:00:00', dst: '306', duration: 0, billsec: 0, disposition: 'FAILED', uniqueid: '1773136800.7', sequence: 7 },
    // Over the spring-forward change (02:00 -> 03:00 in Berlin): 2 minutes long.
    { ...base, calldate: '2026-03-29 01:59:00', dst: '307', duration: 120, billsec: 100, disposition: 'ANSWERED', uniqueid: '1774745940.8', sequence: 8 },
  ]);
  await insertCdrs(
    db,
    [
      { calldate: '2026-03-10 10:10:00', src: '201', dst: '310', duration: 60, billsec: 50, disposition: 'ANSWERED', amaflags: 'BILLING', uniqueid: 'b', accountcode: 'old' },
      { calldate: '2026-03-10 10:10:00', src: '201', dst: '311', duration: 30, billsec: 0, disposition: 'NO ANSWER', amaflags: 'DOCUMENTATION', uniqueid: 'c' },
      { calldate: '2026-03-10 10:05:00', src: '201', dst: '312', duration: 10, billsec: 0, disposition: 'CONGESTION', amaflags: '', uniqueid: 'a' },
    ],
    { table: 'cdr_old' },
  );
}, 60_000);

afterAll(async () => {
  for (const s of sources) await s.close();
  await db?.close();
});

describe('MysqlCdrSource on FreePBX asteriskcdrdb.cdr (MariaDB)', () => {
  it('reads the records that ended in the window, whenever they started, in calldate then sequence order', async () => {
    const s = source();
    const rows = await s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'));
    expect(rows.map((r) => r.dst)).toEqual(['304', '300', '301', '302', '306']);
    expect(s.name).toBe(`mysql asteriskcdrdb.cdr at 127.0.0.1:${db.port}`);
  });

  it('derives end from calldate + duration, and answer from billsec for ANSWERED only', async () => {
    const rows = await source().read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'));
    const by = (dst: string) => rows.find((r) => r.dst === dst)!;
    expect(by('300')).toEqual({
      accountcode: 'sales',
      src: '201',
      dst: '300',
      dcontext: 'from-internal',
      clid: '"Alice" <201>',
      channel: 'PJSIP/201-00000001',
      dstchannel: 'PJSIP/300-00000002',
      lastapp: 'Dial',
      lastdata: 'PJSIP/300,,Tt',
      start: '2026-03-10 09:50:00',
      answer: '2026-03-10 09:51:00',
      end: '2026-03-10 10:05:00',
      duration: 900,
      billsec: 840,
      disposition: 'ANSWERED',
      amaflags: 'DOCUMENTATION',
      uniqueid: '1773132600.1',
      linkedid: '1773132600.1',
      userfield: 'vip',
      recordingfile: 'out-300-201-20260310-095000-1773132600.1.wav',
      did: '',
      startMs: Date.parse('2026-03-10T08:50:00Z'),
      endMs: Date.parse('2026-03-10T09:05:00Z'),
    });
    expect(by('301')).toMatchObject({ disposition: 'NO ANSWER', start: '2026-03-10 10:30:00', answer: '', end: '2026-03-10 10:30:20', did: '4930123456', linkedid: '1773135000.4' });
    expect(by('302')).toMatchObject({ disposition: 'BUSY', answer: '', end: '2026-03-10 10:30:05', amaflags: 'BILLING' });
    expect(by('304')).toMatchObject({ start: '2026-03-09 10:30:00', answer: '2026-03-09 10:40:00', end: '2026-03-10 10:00:00', endMs: at('2026-03-10 10:00:00') });
    expect(by('306')).toMatchObject({ disposition: 'FAILED', answer: '', start: '2026-03-10 11:00:00', end: '2026-03-10 11:00:00' });
  });

  it('converts in the box zone across a daylight-saving change', async () => {
    const rows = await source().read(at('2026-03-29 03:00:00'), at('2026-03-29 04:00:00'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ start: '2026-03-29 01:59:00', answer: '2026-03-29 01:59:20', end: '2026-03-29 03:01:00' });
    expect(rows[0]!.endMs - rows[0]!.startMs).toBe(120_000);
    expect(rows[0]!.startMs).toBe(Date.parse('2026-03-29T00:59:00Z'));
  });

  it('reads an older table without linkedid, recordingfile, did or sequence: "" for them, ordered by its AUTO_INCREMENT id', async () => {
    const s = source({ table: 'cdr_old' });
    const rows = await s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'));
    expect(rows.map((r) => r.uniqueid)).toEqual(['a', 'b', 'c']);
    expect(rows[1]).toMatchObject({ linkedid: '', recordingfile: '', did: '', amaflags: 'BILLING', accountcode: 'old', answer: '2026-03-10 10:10:10', end: '2026-03-10 10:11:00' });
    expect(rows[2]).toMatchObject({ amaflags: 'DOCUMENTATION', answer: '', end: '2026-03-10 10:10:30' });
    expect(rows[0]).toMatchObject({ amaflags: '', disposition: 'CONGESTION', lastapp: '', dstchannel: '' });
    expect(await s.check()).toBe('3 records, newest 2026-03-10 10:10:00 (no linkedid, recordingfile, did columns: read as "")');
  });

  it('check(): counts the records and names the newest, with a user that has SELECT and nothing else; nothing is written', async () => {
    const grants = await db.query<Record<string, string>[]>("SHOW GRANTS FOR 'cdrreader'@'%'");
    expect(grants.map((g) => Object.values(g)[0]).join('\n')).not.toMatch(/INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|ALL PRIVILEGES/);
    const before = await writes();
    const s = source();
    expect(await s.check()).toBe('8 records, newest 2026-03-29 01:59:00');
    await s.read(at('2026-03-01 00:00:00'), at('2026-04-01 00:00:00'));
    expect(await writes()).toEqual(before);
  });

  it('check() on a wrong password: names the account and the GRANT that makes it', async () => {
    const err = await source({ password: 'wrong' }).check().then(() => null, (e: Error) => e);
    expect(err?.message).toBe(
      `mysql asteriskcdrdb.cdr at 127.0.0.1:${db.port}: access denied for 'cdrreader'@'127.0.0.1' (wrong password, or no such user for this host): ` +
        "check [cdrdb] user and password in api.conf; to create a read-only user: CREATE USER 'cdrreader'@'127.0.0.1' IDENTIFIED BY '...'; GRANT SELECT ON `asteriskcdrdb`.`cdr` TO 'cdrreader'@'127.0.0.1';",
    );
  });

  it('check() for a user without SELECT: the GRANT to give, for the account the server matched', async () => {
    const err = await source({ user: 'nogrant', password: 'pw' }).check().then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(new RegExp(`^mysql asteriskcdrdb\\.cdr at 127\\.0\\.0\\.1:${db.port}: 'nogrant'@'%' may not read asteriskcdrdb\\.cdr \\(SELECT command denied .*\\): give it SELECT, and only SELECT: GRANT SELECT ON \`asteriskcdrdb\`\\.\`cdr\` TO 'nogrant'@'%'; \\(the server says the same of a table that does not exist: check \\[cdrdb\\] database and table in api\\.conf\\)$`));
  });

  it('check() on a missing table or database: which [cdrdb] setting to fix', async () => {
    const table = await source({ user: 'freepbxuser', password: 'pw', table: 'cdrs' }).check().then(() => null, (e: Error) => e);
    expect(table?.message).toBe(
      `mysql asteriskcdrdb.cdrs at 127.0.0.1:${db.port}: there is no table asteriskcdrdb.cdrs: set [cdrdb] database and table in api.conf to where Asterisk writes its CDRs (FreePBX: asteriskcdrdb.cdr; see cdr_adaptive_odbc.conf or cdr_mysql.conf)`,
    );
    await db.query("GRANT SELECT ON `asteriskcdr`.* TO 'freepbxuser'@'%'");
    const database = await source({ user: 'freepbxuser', password: 'pw', database: 'asteriskcdr' }).check().then(() => null, (e: Error) => e);
    expect(database?.message).toMatch(/^mysql asteriskcdr\.cdr at 127\.0\.0\.1:\d+: there is no (database asteriskcdr|table asteriskcdr\.cdr): set \[cdrdb\] database/);
  });

  it('a table that is not a CDR table: says so', async () => {
    await db.query('CREATE TABLE asteriskcdrdb.cel (id int, eventtime datetime)');
    const err = await source({ user: 'freepbxuser', password: 'pw', table: 'cel' }).check().then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/: the table has no calldate, duration column: it is not an Asterisk CDR table; set \[cdrdb\] table/);
  });

  it('a query held up by a lock times out, drops the connection, and the next read works', async () => {
    const s = source({}, { queryTimeoutMs: 300 });
    expect(await s.check()).toMatch(/^8 records/);
    await db.query('LOCK TABLES asteriskcdrdb.cdr WRITE');
    try {
      const t0 = Date.now();
      const err = await s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00')).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/: a query did not finish within 300 ms: the database is overloaded or the table is locked/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await db.query('UNLOCK TABLES');
    }
    expect(await s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'))).toHaveLength(5);
  });

  it('a hung server (stopped with SIGSTOP): read() gives up instead of waiting, and works again once it runs', async () => {
    const s = source({}, { connectTimeoutMs: 300, queryTimeoutMs: 300 });
    expect(await s.check()).toMatch(/^8 records/);
    process.kill(db.pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      await expect(s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'))).rejects.toThrow(/: a query did not finish within 300 ms/);
      // A new connection: the kernel takes it, the server never greets.
      await expect(s.check()).rejects.toThrow(/: the server did not answer within 300 ms \(ETIMEDOUT\)/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      process.kill(db.pid, 'SIGCONT');
    }
    expect(await s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'))).toHaveLength(5);
  });

  it('a server that accepts but never answers: check() gives up after connectTimeout', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const t0 = Date.now();
      const err = await source({ port }, { connectTimeoutMs: 300 }).check().then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(new RegExp(`^mysql asteriskcdrdb\\.cdr at 127\\.0\\.0\\.1:${port}: the server did not answer within 300 ms \\(ETIMEDOUT\\)`));
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      for (const sock of held) sock.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  // Last: it stops the server.
  it('check() and read() once the server is stopped: connection refused, and where', async () => {
    const s = source();
    expect(await s.check()).toMatch(/^8 records/);
    await db.stop();
    const refused = `mysql asteriskcdrdb.cdr at 127.0.0.1:${db.port}: connection refused: is MySQL/MariaDB running and listening on 127.0.0.1:${db.port}? Check [cdrdb] host and port in api.conf (or socket=, e.g. /var/run/mysqld/mysqld.sock)`;
    // The open connection is gone: read() tries a new one, which is refused.
    await expect(s.read(at('2026-03-10 10:00:00'), at('2026-03-10 11:00:00'))).rejects.toThrow(refused);
    await expect(source().check()).rejects.toThrow(refused);
  });
});
