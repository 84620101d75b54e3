import { describe, expect, it } from 'vitest';
import { calendarDate, effectiveInstant, isTimeZone } from '../../src/domain/dates.ts';
import { DEFAULT_SETTINGS, mergeSettings, parseSettings } from '../../src/domain/settings.ts';
import { AppError } from '../../src/domain/errors.ts';

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('effective dates', () => {
  it('reads a plain date as midnight in the time zone, across daylight saving', () => {
    expect(effectiveInstant('2026-03-15', 'UTC', 'effectiveDate')).toBe('2026-03-15T00:00:00.000Z');
    expect(effectiveInstant('2026-03-15', 'Europe/Zurich', 'effectiveDate')).toBe('2026-03-14T23:00:00.000Z');
    expect(effectiveInstant('2026-07-01', 'Europe/Zurich', 'effectiveDate')).toBe('2026-06-30T22:00:00.000Z');
    expect(effectiveInstant('2026-03-15', 'America/New_York', 'effectiveDate')).toBe('2026-03-15T04:00:00.000Z');
  });

  it('takes a full ISO 8601 time as that instant', () => {
    expect(effectiveInstant('2026-03-15T08:30:00Z', 'Europe/Zurich', 'effectiveDate')).toBe('2026-03-15T08:30:00.000Z');
    expect(effectiveInstant('2026-03-15T09:30:00+01:00', 'UTC', 'effectiveDate')).toBe('2026-03-15T08:30:00.000Z');
    expect(effectiveInstant('2026-03-15T09:30+01:00', 'UTC', 'effectiveDate')).toBe('2026-03-15T08:30:00.000Z');
  });

  it('refuses dates that do not exist, times without an offset and other text, naming the field', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-03-15T08:00:00', '15.03.2026', 'tomorrow', '2026-03-15T25:00:00Z', '']) {
      const e = refusal(() => effectiveInstant(bad, 'UTC', 'endDate'));
      expect(e.code).toBe('validation_failed');
      expect(e.errors?.[0]?.field).toBe('endDate');
    }
  });

  it('names the calendar day of an instant in a zone', () => {
    expect(calendarDate('2026-03-14T23:00:00.000Z', 'Europe/Zurich')).toBe('2026-03-15');
    expect(calendarDate('2026-03-14T23:00:00.000Z', 'UTC')).toBe('2026-03-14');
  });
});

describe('tenant settings', () => {
  it('defaults what is absent and merges nested groups', () => {
    expect(parseSettings('{}')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('not json')).toEqual(DEFAULT_SETTINGS);
    const s = mergeSettings(DEFAULT_SETTINGS, { timeZone: 'Europe/Zurich', personnelEvents: { unjustifiedAccess: 'remove' } });
    expect(s).toEqual({ ...DEFAULT_SETTINGS, timeZone: 'Europe/Zurich', personnelEvents: { unjustifiedAccess: 'remove', autoApproveHr: true } });
  });

  it('refuses an unknown time zone naming the field', () => {
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(refusal(() => mergeSettings(DEFAULT_SETTINGS, { timeZone: 'Mars/Olympus' })).errors?.[0]?.field).toBe('timeZone');
  });
});
