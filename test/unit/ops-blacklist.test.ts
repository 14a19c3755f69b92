import { describe, expect, it } from 'vitest';
import { AmiParser } from '../../agent/ami/parser.ts';
import { blacklistCreate } from '../../agent/ops/blacklist-create.ts';
import { blacklistDelete } from '../../agent/ops/blacklist-delete.ts';
import { blacklistIndex } from '../../agent/ops/blacklist-index.ts';
import { ApiError } from '../../shared/errors.ts';
import { opContext, unknownActionRecording } from '../support/op-context.ts';
import { recordingsOf, ReplayRunner, type Recording } from '../support/replay-runner.ts';

const DB = '15_database_actions.txt';

for (const driver of ['chan_sip', 'pjsip'] as const) {
  describe(`${driver}: blacklist`, () => {
    it('index lists the direct keys of the family from DBGetTree, not sub-families', async () => {
      const ami = ReplayRunner.of(driver, [DB]);
      expect(await blacklistIndex({}, opContext(driver, ami))).toEqual({ status: 'success', data: ['5551234', '5559999'] });
      expect(ami.sent).toEqual([{ Action: 'DBGetTree', Family: 'blacklist' }]);
    });

    it('index falls back to `database show blacklist` where DBGetTree is unknown', async () => {
      const fromDb = recordingsOf(driver, DB).filter((r) => r.action.Action !== 'DBGetTree');
      const ami = new ReplayRunner([unknownActionRecording({ Action: 'DBGetTree', Family: 'blacklist' }), ...fromDb]);
      expect((await blacklistIndex({}, opContext(driver, ami))).data).toEqual(['5551234', '5559999']);
      expect(ami.sent).toEqual([
        { Action: 'DBGetTree', Family: 'blacklist' },
        { Action: 'Command', Command: 'database show blacklist' },
      ]);
    });

    it('create stores the value 1', async () => {
      const ami = ReplayRunner.of(driver, ['28_blacklist_block.txt'], { keys: { DBPut: ['Family', 'Key'] } });
      expect(await blacklistCreate({ number: '806' }, opContext(driver, ami))).toEqual({
        status: 'success',
        message: 'Updated database successfully',
      });
      expect(ami.sent).toEqual([{ Action: 'DBPut', Family: 'blacklist', Key: '806', Val: '1' }]);
    });

    it('delete removes the key; a number that is not listed is 404', async () => {
      const ami = ReplayRunner.of(driver, [DB]);
      const ctx = opContext(driver, ami);
      expect(await blacklistDelete({ number: '5559999' }, ctx)).toEqual({ status: 'success', message: 'Key deleted successfully' });
      const err = await blacklistDelete({ number: '5559999' }, ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(404);
      expect(ami.sent).toEqual([
        { Action: 'DBDel', Family: 'blacklist', Key: '5559999' },
        { Action: 'DBDel', Family: 'blacklist', Key: '5559999' },
      ]);
    });
  });
}

describe('blacklist index on Asterisk before 14', () => {
  it('reads the old `Response: Follows` Command body', async () => {
    const wire =
      'Response: Follows\r\nPrivilege: Command\r\nActionID: c-1\r\n' +
      '/blacklist/123456                                 : 1\r\n' +
      '/blacklist/sub/x                                  : 1\r\n' +
      '2 results found.\r\n--END COMMAND--\r\n\r\n';
    const [frame] = new AmiParser().push(wire);
    if (frame?.kind !== 'message') throw new Error('parser gave no message');
    const old: Recording = {
      source: 'Asterisk 13 Command format',
      action: { Action: 'Command', Command: 'database show blacklist' },
      result: { response: frame.message, events: [] },
      error: false,
    };
    const ami = new ReplayRunner([unknownActionRecording({ Action: 'DBGetTree', Family: 'blacklist' }), old]);
    expect((await blacklistIndex({}, opContext('chan_sip', ami))).data).toEqual(['123456']);
  });
});
