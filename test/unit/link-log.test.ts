import { expect, it } from 'vitest';
import { linkLogger } from '../../agent/link-log.ts';

it('says a link went down once per reason and up once, however many retries happen in between', () => {
  const lines: Record<string, unknown>[] = [];
  let t = 0;
  const link = linkLogger((e) => lines.push(e), 'AMI 127.0.0.1:5038', () => t);
  link(true);
  for (let i = 0; i < 50; i++) {
    t += 1000;
    link(false, 'connect ECONNREFUSED');
  }
  link(false, 'login refused: Authentication failed');
  link(false, 'login refused: Authentication failed');
  t += 5000;
  link(true);
  link(true);
  expect(lines.map((l) => [l.msg, l.reason])).toEqual([
    ['AMI 127.0.0.1:5038 up', undefined],
    ['AMI 127.0.0.1:5038 down; retrying until it is back', 'connect ECONNREFUSED'],
    ['AMI 127.0.0.1:5038 down; retrying until it is back', 'login refused: Authentication failed'],
    ['AMI 127.0.0.1:5038 up', undefined],
  ]);
  expect(lines[3]?.downForMs).toBe(54_000);
});
