import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../agent/config.ts';

/** docs/api.md "The api.conf example", as written there. */
const DOC_EXAMPLE = `[general]
BINDPORT=8000                    ; LAN REST API port of the agent
URL=http://192.168.12.185:8090   ; customer URL for events
WEBKEY=asjdfjklkasdf             ; empty or commented: no auth on the LAN API
mac=68:69:2e:03:8b:3e            ; device identity (edge address); absent: the box's first NIC
pop_url=http://www.example.com   ; screen-pop URL opened by the agent toolbar
;WEBHOOK_SECRET=...              ; signs pushes in LAN mode (default: WEBKEY)
[enable]
pausetime=no
;wrapup_seconds=30
[ami]
host=127.0.0.1
port=5038
username=coocenter
secret=...
context=from-internal            ; dialplan context for click-to-dial, transfer and spy
;member_interface=Local/{ext}@agents/n   ; how agent-login adds a member (default: the driver's)
[tunnel]
edge=wss://edge.example.com      ; absent: LAN mode only
token=...
[paths]
monitor=/var/spool/asterisk/monitor
spool=/var/lib/coocenter-agent
`;

const minimal = (general: string, rest = '') => `[general]\n${general}\n[ami]\nusername=u\nsecret=s\n${rest}`;

function errorOf(text: string): string {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('parsed without error');
}

describe('api.conf', () => {
  it("is docs/api.md's api.conf example, verbatim", async () => {
    const doc = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');
    expect(doc).toContain('```ini\n' + DOC_EXAMPLE + '```\n');
  });

  it("parses docs/api.md's api.conf example, inline comments and defaults included", () => {
    const c = parseConfig(DOC_EXAMPLE);
    expect(c).toEqual({
      general: {
        bindPort: 8000,
        url: 'http://192.168.12.185:8090',
        webkey: 'asjdfjklkasdf',
        mac: '68:69:2e:03:8b:3e',
        popUrl: 'http://www.example.com',
        webhookSecret: undefined,
        corsOrigins: [],
      },
      enable: { pauseTime: false, wrapupSeconds: 30 },
      ami: { host: '127.0.0.1', port: 5038, username: 'coocenter', secret: '...', context: 'from-internal', memberInterface: undefined, driver: 'auto' },
      tunnel: { edge: 'wss://edge.example.com', token: '...' },
      paths: { monitor: '/var/spool/asterisk/monitor', spool: '/var/lib/coocenter-agent' },
      backfill: { maxWindowSeconds: 86_400, cdrCsvGmt: false },
      warnings: [],
    });
  });

  it('reads the backfill sources: queue_log and Master.csv paths, the CDR database, the window bound', () => {
    const c = parseConfig(
      minimal('') +
        '[paths]\nqueue_log=/var/log/asterisk/queue_log\ncdr_csv=/var/log/asterisk/cdr-csv/Master.csv\n[cdrdb]\nuser=cdrreader\npassword=p;w\n[backfill]\nmax_window=3600\n',
    );
    expect(c.paths).toMatchObject({ queueLog: '/var/log/asterisk/queue_log', cdrCsv: '/var/log/asterisk/cdr-csv/Master.csv' });
    expect(c.cdrdb).toEqual({ host: '127.0.0.1', port: 3306, user: 'cdrreader', password: 'p;w', database: 'asteriskcdrdb', table: 'cdr' });
    expect(c.backfill).toEqual({ maxWindowSeconds: 3600, cdrCsvGmt: false });
    expect(parseConfig(minimal('') + '[backfill]\ncdr_csv_usegmtime=yes\n').backfill.cdrCsvGmt).toBe(true);
    expect(parseConfig(minimal('')).cdrdb).toBeUndefined();
    expect(() => parseConfig(minimal('') + '[cdrdb]\nhost=db.lan\n')).toThrow(/\[cdrdb\] user is required/);
    expect(() => parseConfig(minimal('') + '[paths]\nqueue_log=queue_log\n')).toThrow(/queue_log must be an absolute path/);
    expect(() => parseConfig(minimal('') + '[backfill]\nmax_window=10\n')).toThrow(/max_window must be a whole number of seconds/);
  });

  it('keeps ; and # inside values whole, and cuts only comments after whitespace', () => {
    const c = parseConfig(`[general]\nWEBKEY=ab#cd;1\n[ami]\nusername=u\nsecret=x;y#z   # the AMI secret\n`);
    expect(c.general.webkey).toBe('ab#cd;1');
    expect(c.ami.secret).toBe('x;y#z');
    expect(parseConfig(minimal('URL=http://h/p?a=1;b=2#frag')).general.url).toBe('http://h/p?a=1;b=2#frag');
  });

  it('reads keys and sections case-insensitively, and keys before any section as [general]', () => {
    const c = parseConfig(`bindport=9000\n[GENERAL]\nWebKey=k\nMAC=68-69-2E-03-8B-3E\n[Enable]\nPAUSETIME=Yes\nWRAPUP_SECONDS=45\n[AMI]\nUSERNAME=u\nSecret=s\nDriver=PJSIP\nMember_Interface=Local/{ext}@agents/n\n`);
    expect(c.general).toMatchObject({ bindPort: 9000, webkey: 'k', mac: '68:69:2e:03:8b:3e' });
    expect(c.enable).toEqual({ pauseTime: true, wrapupSeconds: 45 });
    expect(c.ami).toMatchObject({ driver: 'pjsip', memberInterface: 'Local/{ext}@agents/n' });
  });

  it('treats an empty or commented WEBKEY as none', () => {
    expect(parseConfig(minimal('WEBKEY=')).general.webkey).toBeUndefined();
    expect(parseConfig(minimal('#WEBKEY=abc')).general.webkey).toBeUndefined();
    expect(parseConfig(minimal('WEBKEY=   ; off')).general.webkey).toBeUndefined();
  });

  it('reads cors_origins as a list', () => {
    expect(parseConfig(minimal('cors_origins=https://a.example.com, http://b.example.com:8080')).general.corsOrigins).toEqual([
      'https://a.example.com',
      'http://b.example.com:8080',
    ]);
  });

  it('names the key and the line of each broken value', () => {
    expect(errorOf(minimal('\nBINDPORT=abc'))).toBe("api.conf line 3: BINDPORT must be a port number (1-65535, or 0 for any free port), got 'abc'");
    expect(errorOf(minimal('BINDPORT=70000'))).toMatch(/^api.conf line 2: BINDPORT must be a port number/);
    expect(errorOf(minimal('URL=ftp://x'))).toMatch(/^api.conf line 2: URL must be an http/);
    expect(errorOf(minimal('mac=68:69:2e:03:8b'))).toMatch(/^api.conf line 2: mac must be a MAC address/);
    expect(errorOf(minimal('cors_origins=https://a.example.com/path'))).toMatch(/^api.conf line 2: cors_origins must list origins/);
    expect(errorOf(minimal('', '[enable]\npausetime=maybe\n'))).toMatch(/^api.conf line 7: pausetime must be yes or no/);
    expect(errorOf(minimal('', '[enable]\nwrapup_seconds=1e3\n'))).toMatch(/^api.conf line 7: wrapup_seconds must be a whole number/);
    expect(errorOf(minimal('', 'port=0x10\n'))).toMatch(/^api.conf line 6: port must be a port number/);
    expect(errorOf(minimal('', 'driver=iax\n'))).toMatch(/^api.conf line 6: driver must be auto, sip or pjsip/);
    expect(errorOf(minimal('', 'member_interface=Local/808@agents\n'))).toMatch(/^api.conf line 6: member_interface must contain \{ext\}/);
    expect(errorOf(minimal('', '[tunnel]\nedge=https://edge\ntoken=t\n'))).toMatch(/^api.conf line 7: edge must be a ws/);
    expect(errorOf(minimal('', '[paths]\nmonitor=relative/dir\n'))).toMatch(/^api.conf line 7: monitor must be an absolute path/);
    expect(errorOf(minimal('just words'))).toMatch(/^api.conf line 2: expected key=value/);
    expect(errorOf(minimal('[general'))).toMatch(/^api.conf line 2: .* is not a section header/);
  });

  it('names what is missing', () => {
    expect(errorOf('[general]\nBINDPORT=8000\n[ami]\nusername=u\n')).toBe('api.conf line 3: [ami] secret is required');
    expect(errorOf('[general]\nBINDPORT=8000\n')).toBe('api.conf: [ami] username is required');
    expect(errorOf(minimal('', '[tunnel]\nedge=wss://edge.example.com\n'))).toBe('api.conf line 6: [tunnel] token is required when edge is set');
  });

  it('never echoes a secret in an error', () => {
    expect(errorOf(minimal('', 'secret=\u0001hunter2\n[tunnel]\nedge=wss://e\n'))).not.toContain('hunter2');
  });

  it('warns about keys and sections it does not know', () => {
    const c = parseConfig(minimal('BINPORT=8000', '[extra]\nx=1\n'));
    expect(c.warnings).toEqual(['api.conf line 2: unknown key BINPORT in [general], ignored', 'api.conf line 6: unknown section [extra], ignored']);
  });

  it('loadConfig reads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rest-config-'));
    try {
      await writeFile(join(dir, 'api.conf'), DOC_EXAMPLE.replace('BINDPORT=8000', 'BINDPORT=8001'));
      expect((await loadConfig(join(dir, 'api.conf'))).general.bindPort).toBe(8001);
      await expect(loadConfig(join(dir, 'missing.conf'))).rejects.toThrow(/missing.conf: cannot read the file \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
