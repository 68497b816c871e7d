// The warm-up ramp of src/greenline/channels/warmup.py (20 messages on day 1 to 1,000 on day 14,
// geometric in between), for the numbers page's chart.
export const START_PER_DAY = 20;
export const END_PER_DAY = 1000;
export const RAMP_DAYS = 14;

export function dailyAllowance(day: number): number {
  const d = Math.max(1, Math.min(day, RAMP_DAYS));
  return Math.floor(START_PER_DAY * (END_PER_DAY / START_PER_DAY) ** ((d - 1) / (RAMP_DAYS - 1)) + 0.5);
}

export function warmupSchedule(): { day: number; allowance: number }[] {
  return Array.from({ length: RAMP_DAYS }, (_, i) => ({ day: i + 1, allowance: dailyAllowance(i + 1) }));
}
