import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonFile, StateFileError } from '../../agent/json-file.ts';
import { Outbox } from '../../agent/outbox/outbox.ts';

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'coocenter-json-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('files the agent reads back from disk are parsed by a schema', () => {
  const schema = z.object({ n: z.int() });

  it('gives the parsed value, undefined for no file, and names the file and the field otherwise', async () => {
    const dir = temp();
    const path = join(dir, 'x.json');
    expect(await readJsonFile(path, schema)).toBeUndefined();
    writeFileSync(path, '{"n":3,"extra":true}');
    expect(await readJsonFile(path, schema)).toEqual({ n: 3 });
    writeFileSync(path, '{"n":"3"}');
    await expect(readJsonFile(path, schema)).rejects.toThrow(StateFileError);
    await expect(readJsonFile(path, schema)).rejects.toThrow(`${path} is unreadable: n:`);
    writeFileSync(path, '{"n":');
    await expect(readJsonFile(path, schema)).rejects.toThrow(`${path} is unreadable: not JSON`);
  });

  it('an outbox whose state.json holds a value of the wrong type starts that value at 0, as before; a broken meta.json stops it', async () => {
    const dir = temp();
    const first = await Outbox.open({ dir });
    await first.appendMany([{ type: 'hangup', body: '{}' }]);
    await first.close();
    writeFileSync(join(dir, 'state.json'), '{"acked":"x","dropped":2}');
    const again = await Outbox.open({ dir });
    expect(again.stats()).toMatchObject({ dropped: 2, waiting: 1 });
    await again.close();
    writeFileSync(join(dir, 'meta.json'), '{"epoch":"NOT-AN-EPOCH"}');
    await expect(Outbox.open({ dir })).rejects.toThrow(/meta\.json is unreadable: epoch/);
  });
});
