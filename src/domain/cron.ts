/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week), evaluated in UTC
 * by cron-parser. `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`, month
 * and weekday names (`JAN`, `MON`) and `7` for Sunday; as in classic cron, when both
 * day-of-month and day-of-week are restricted, a day matches if either matches. Seconds
 * and years (six or seven fields) are refused: imports run on minutes.
 *
 * ```ts
 * const nightly = parseCron('0 2 * * *');
 * nightly.next(new Date('2026-11-25T10:00:00Z')); // 2026-11-26T02:00:00.000Z
 * parseCron('61 * * * *');                        // throws CronError
 * ```
 */
import { CronExpressionParser } from 'cron-parser';

export class CronError extends Error {}

export interface CronSchedule {
  readonly expression: string;
  /** The first matching minute strictly after `after`. */
  next(after: Date): Date;
}

function explain(expression: string, error: unknown): CronError {
  const message = error instanceof Error ? error.message : String(error);
  if (/explicit day of month/i.test(message)) return new CronError(`"${expression}" never matches: no month has that day`);
  return new CronError(`"${expression}" is not a valid schedule: ${message}`);
}

export function parseCron(expression: string): CronSchedule {
  const text = expression.trim();
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new CronError(`"${expression}" has ${fields.length} fields; a schedule has five: minute hour day-of-month month day-of-week`);
  const parse = (after: Date) => {
    try {
      return CronExpressionParser.parse(text, { currentDate: after, tz: 'UTC', strict: false });
    } catch (e) {
      throw explain(expression, e);
    }
  };
  // Refused at once, not at the first run.
  parse(new Date(0));
  return {
    expression: text,
    next(after: Date): Date {
      try {
        return parse(after).next().toDate();
      } catch (e) {
        throw e instanceof CronError ? e : explain(expression, e);
      }
    },
  };
}
