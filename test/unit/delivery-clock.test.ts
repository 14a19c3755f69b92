import { expect, it } from 'vitest';
import { scaledClock } from '../../shared/clock.ts';

it('runs a 10 h retry wait in milliseconds with a scaled clock, and its time moves as far', async () => {
  const clock = scaledClock(1e-6);
  const start = clock.now();
  const firedAt = await new Promise<number>((resolve) => clock.setTimer(10 * 3600 * 1000, () => resolve(clock.now())));
  expect(firedAt - start).toBeGreaterThanOrEqual(10 * 3600 * 1000 - 1);
  let fired = false;
  clock.setTimer(1000, () => (fired = true))();
  await new Promise<void>((resolve) => clock.setTimer(10_000, resolve));
  expect(fired).toBe(false);
});
