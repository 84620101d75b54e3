/**
 * A small five-field cron parser (minute hour day-of-month month day-of-week), evaluated in
 * UTC. Supports `*`, numbers, ranges `a-b`, steps `*\/n` and `a-b/n`, lists `a,b`, month
 * and weekday names (`JAN`, `MON`) and `7` for Sunday. As in classic cron, when both
 * day-of-month and day-of-week are restricted, a day matches if either matches.
 *
 * ```ts
 * const nightly = parseCron('0 2 * * *');
 * nightly.next(new Date('2026-11-25T10:00:00Z')); // 2026-11-26T02:00:00.000Z
 * parseCron('61 * * * *');                        // throws CronError
 * ```
 */

export class CronError extends Error {}

export interface CronSchedule {
  readonly expression: string;
  /** The first matching minute strictly after `after`. */
  next(after: Date): Date;
}

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

function parseValue(text: string, field: Field): number {
  const upper = text.toUpperCase();
  if (field.names) {
    const i = field.names.indexOf(upper);
    if (i >= 0) return i + (field.name === 'month' ? 1 : 0);
  }
  if (!/^\d{1,2}$/.test(text)) throw new CronError(`"${text}" is not a valid ${field.name}`);
  const n = Number(text);
  if (n < field.min || n > field.max) throw new CronError(`${field.name} ${n} is outside ${field.min}-${field.max}`);
  return n;
}

function parseField(text: string, field: Field): { values: Set<number>; restricted: boolean } {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(`empty list item in the ${field.name} field`);
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined || rangeText === undefined) throw new CronError(`"${part}" is not a valid ${field.name}`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d{1,2}$/.test(stepText) || Number(stepText) === 0) throw new CronError(`step "${stepText}" in the ${field.name} field must be 1-99`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = field.min;
      to = field.max;
    } else if (rangeText.includes('-')) {
      const [a, b, more] = rangeText.split('-');
      if (a === undefined || b === undefined || more !== undefined) throw new CronError(`"${rangeText}" is not a valid range`);
      from = parseValue(a, field);
      to = parseValue(b, field);
      if (from > to) throw new CronError(`range ${rangeText} in the ${field.name} field runs backwards`);
    } else {
      from = parseValue(rangeText, field);
      to = stepText !== undefined ? field.max : from;
    }
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return { values, restricted: text !== '*' };
}

export function parseCron(expression: string): CronSchedule {
  if (expression.length > 200) throw new CronError('the expression is too long');
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!)) as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  const dayMatches = (d: Date): boolean => {
    const byDom = dom.values.has(d.getUTCDate());
    const byDow = dow.values.has(d.getUTCDay());
    if (dom.restricted && dow.restricted) return byDom || byDow;
    if (dom.restricted) return byDom;
    if (dow.restricted) return byDow;
    return true;
  };
  return {
    expression,
    next(after: Date): Date {
      const t = new Date(after.getTime());
      t.setUTCSeconds(0, 0);
      t.setUTCMinutes(t.getUTCMinutes() + 1);
      // Five years of days bounds the search (e.g. "0 0 30 2 *" never matches).
      const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
      while (t.getTime() <= limit) {
        if (!month.values.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!hour.values.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
          continue;
        }
        if (!minute.values.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
          continue;
        }
        return t;
      }
      throw new CronError(`"${expression}" never matches`);
    },
  };
}
