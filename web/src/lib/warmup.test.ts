import { describe, expect, it } from 'vitest';

import { dailyAllowance, warmupSchedule } from './warmup';

describe('warm-up ramp', () => {
  it('matches the server: 20 on day 1, 1,000 on day 14, about 35 % more each day', () => {
    expect(dailyAllowance(1)).toBe(20);
    expect(dailyAllowance(14)).toBe(1000);
    expect(dailyAllowance(2)).toBe(27);
    const schedule = warmupSchedule();
    expect(schedule).toHaveLength(14);
    expect(schedule.every((d, i) => i === 0 || d.allowance > schedule[i - 1]!.allowance)).toBe(true);
  });
});
