/**
 * Dates as workflow users write them: a plain calendar date (`2026-03-15`) means midnight at
 * the start of that day in the tenant's time zone; a full ISO 8601 time (`2026-03-15T08:00:00Z`,
 * `2026-03-15T09:00:00+01:00`) means that instant. Dates that do not exist (`2026-02-30`) and
 * times without an offset are refused, naming the field.
 *
 * ```ts
 * effectiveInstant('2026-03-15', 'Europe/Zurich', 'effectiveDate') // '2026-03-14T23:00:00.000Z'
 * ```
 */
import { DateTime, IANAZone } from 'luxon';
import { AppError } from './errors.ts';

const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A full time with seconds optional, fraction optional, and a `Z` or `±hh:mm` offset. */
const FULL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Zone names already asked about (a few per deployment): asking luxon builds an `Intl.DateTimeFormat` each time. */
const knownZones = new Map<string, boolean>();

/** Whether `zone` is an IANA time zone name this runtime knows (`Europe/Zurich`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    known = IANAZone.isValidZone(zone);
    // Bounded: names come from tenant settings and requests; a flood of made-up ones is not kept.
    if (knownZones.size < 1_000) knownZones.set(zone, known);
  }
  return known;
}

/** Whether `value` is a plain calendar date (no time of day). */
export function isPlainDate(value: string): boolean {
  return PLAIN_DATE.test(value);
}

/**
 * The instant (ISO 8601, UTC, milliseconds) a user's date means: a plain date is midnight
 * in `timeZone` (on a day whose midnight a daylight-saving change skips, the first moment of
 * the day); a full time is that instant. 400 `validation_failed` naming `field` otherwise.
 */
export function effectiveInstant(value: string, timeZone: string, field: string): string {
  const invalid = (why: string) => new AppError('validation_failed', `${field}: ${why}`, { errors: [{ field, message: why }] });
  if (PLAIN_DATE.test(value)) {
    const day = DateTime.fromISO(value, { zone: timeZone });
    if (!day.isValid) throw invalid(`"${value}" is not a date that exists`);
    return day.startOf('day').toUTC().toISO()!;
  }
  if (!FULL_TIME.test(value)) throw invalid(`"${value}" is neither a date (2026-03-15) nor an ISO 8601 time with an offset (2026-03-15T08:00:00Z)`);
  const time = DateTime.fromISO(value, { setZone: true });
  if (!time.isValid) throw invalid(`"${value}" is not a time that exists`);
  return time.toUTC().toISO()!;
}

/** The calendar date (`2026-03-15`) an instant falls on in `timeZone`. */
export function calendarDate(instant: string, timeZone: string): string {
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(timeZone).toISODate()!;
}
