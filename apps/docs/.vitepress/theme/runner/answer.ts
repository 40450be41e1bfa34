/** Checking a typed answer to an exercise (`ask(...)`). */

/** A typed number: `0.25`, `-1e-3`, `1/4` or `-3 / 8`; null when it is none of these. */
export function parseAnswer(text: string): number | null {
  const parts = text.trim().replace(/,/g, '.').replace(/−/g, '-').split('/');
  if (parts.length > 2 || !parts[0].trim()) return null;
  const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p.trim())));
  if (nums.some((v) => !Number.isFinite(v))) return null;
  const v = nums.length === 2 ? nums[0] / nums[1] : nums[0];
  return Number.isFinite(v) ? v : null;
}

/** Whether `typed` matches `answer` within `rel` (relative) or `abs`. */
export function answerMatches(typed: number, answer: number, rel: number, abs: number): boolean {
  return Math.abs(typed - answer) <= Math.max(abs, rel * Math.abs(answer));
}
