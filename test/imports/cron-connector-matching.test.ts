import { describe, expect, it } from 'vitest';
import { CronError, parseCron } from '../../src/domain/cron.ts';
import { connectorDocument, folderProblem, normalizeConnector } from '../../src/domain/connector.ts';
import { buildIdentityIndex, matchAccount, normalizeKey } from '../../src/domain/matching.ts';

describe('cron', () => {
  const next = (expr: string, from: string) => parseCron(expr).next(new Date(from)).toISOString();
  it('finds the next matching minute in UTC', () => {
    expect(next('0 2 * * *', '2026-11-25T10:00:00Z')).toBe('2026-11-26T02:00:00.000Z');
    expect(next('*/15 * * * *', '2026-11-25T10:07:30Z')).toBe('2026-11-25T10:15:00.000Z');
    expect(next('30 9 * * MON-FRI', '2026-11-28T00:00:00Z')).toBe('2026-11-30T09:30:00.000Z');
    expect(next('0 0 1 JAN *', '2026-11-25T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 12 * * 7', '2026-11-25T00:00:00Z')).toBe('2026-11-29T12:00:00.000Z');
    // Strictly after: a time on the schedule gives the next one.
    expect(next('*/15 * * * *', '2026-11-25T10:15:00Z')).toBe('2026-11-25T10:30:00.000Z');
  });
  it('uses either day field when both are restricted', () => {
    expect(next('0 0 1 * MON', '2026-11-25T00:00:00Z')).toBe('2026-11-30T00:00:00.000Z');
  });
  it.each(['61 * * * *', '* * *', '0 0 * * * 2027', '* * * * * *', '5-1 * * * *', '*/0 * * * *', 'x * * * *', '1,,2 * * * *'])('refuses %s', (expr) => {
    expect(() => parseCron(expr)).toThrow(CronError);
  });
  it('reports a schedule that never matches', () => {
    expect(() => parseCron('0 0 30 2 *').next(new Date('2026-01-01T00:00:00Z'))).toThrow(/never matches/);
  });
});

const base = {
  type: 'file',
  directory: 'core-banking',
  fileGroups: [{ name: 'grants', pattern: 'grants*.csv', columns: { accountName: 'login', email: 'mail', permission: 'entitlement' } }],
  matching: ['email'],
};

describe('connector configuration', () => {
  it('fills defaults and generates GUID ids that survive a round trip', () => {
    const { connector, errors } = normalizeConnector(base);
    expect(errors).toEqual([]);
    const id = connector!.fileGroups[0]!.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(connector).toMatchObject({ unknownPermissions: 'report', maxBadRows: 100, schedule: null, thresholds: { maxRemoved: null } });
    expect(connector!.fileGroups[0]).toMatchObject({ required: true, format: 'csv', delimiter: ',', encoding: 'utf-8' });
    const again = normalizeConnector(JSON.parse(JSON.stringify(connectorDocument(connector!))));
    expect(again.connector!.fileGroups[0]!.id).toBe(id);
  });
  it('names every problem', () => {
    const { connector, errors } = normalizeConnector({
      ...base,
      directory: '../etc',
      fileGroups: [{ name: 'g', pattern: '../x*.csv', columns: { accountName: 'a' } }],
      matching: ['employeeNumber'],
      schedule: '0 25 * * *',
    });
    expect(connector).toBeNull();
    expect(errors.map((e) => e.field).sort()).toEqual(['connector.directory', 'connector.fileGroups.0.pattern', 'connector.matching.0', 'connector.schedule']);
  });
  it('without matching, matches on the identity keys the file groups map, in rule order', () => {
    const { matching: _omitted, ...withoutMatching } = base;
    const mapsBoth = { ...withoutMatching, fileGroups: [{ name: 'grants', pattern: 'g*.csv', columns: { accountName: 'login', username: 'user', employeeNumber: 'emp' } }] };
    expect(normalizeConnector(mapsBoth).connector!.matching).toEqual(['employeeNumber', 'username']);
    expect(normalizeConnector(withoutMatching).connector!.matching).toEqual(['email']);
  });
  it('without matching and no identity key mapped, names the columns the file groups do map', () => {
    const { matching: _omitted, ...withoutMatching } = base;
    const { connector, errors } = normalizeConnector({ ...withoutMatching, fileGroups: [{ name: 'grants', pattern: 'g*.csv', columns: { accountName: 'login', permission: 'entitlement' } }] });
    expect(connector).toBeNull();
    expect(errors).toEqual([
      { field: 'connector.matching', message: 'is absent and no file group maps a column to employeeNumber, email, username, subject to match accounts to identities by (the file groups map accountName, permission)' },
    ]);
    const explicit = normalizeConnector({ ...base, matching: ['username'] });
    expect(explicit.errors).toEqual([{ field: 'connector.matching.0', message: 'no file group maps a column to username (the file groups map accountName, email, permission)' }]);
  });
  it('refuses unknown fields and wrong types', () => {
    const { errors } = normalizeConnector({ ...base, colour: 'blue', unknownPermissions: 'ignore' });
    expect(errors.length).toBeGreaterThan(0);
  });
  it.each(['/abs', '..', 'a/../..', 'a\\b', '.hidden', 'a//b', 'C:/x'])('refuses the folder %s', (dir) => {
    expect(folderProblem(dir)).not.toBeNull();
  });
});

describe('identity matching', () => {
  const index = buildIdentityIndex([
    { id: 'ann', employeeNumber: 'E-1', email: 'Ann@Example.org', username: 'ann', subject: 's:1' },
    { id: 'bob', employeeNumber: 'E-2', email: 'shared@example.org', username: 'bob', subject: 's:2' },
    { id: 'bea', employeeNumber: 'E-3', email: 'shared@example.org', username: 'bea', subject: 's:3' },
    { id: 'zoe', employeeNumber: null, email: 'Zoe\u0301@example.org', username: null, subject: 's:4' },
  ]);
  it('compares after trim, case-fold and NFC', () => {
    expect(normalizeKey('  ÄBC ')).toBe('äbc');
    expect(matchAccount(index, ['email'], { email: ' ANN@example.ORG ' })).toEqual({ state: 'matched', identityId: 'ann', rule: 'email' });
    expect(matchAccount(index, ['email'], { email: 'zoé@example.org' })).toMatchObject({ state: 'matched', identityId: 'zoe' });
  });
  it('takes the first rule that yields exactly one identity', () => {
    expect(matchAccount(index, ['email', 'username'], { email: 'shared@example.org', username: 'bea' })).toEqual({ state: 'matched', identityId: 'bea', rule: 'username' });
    expect(matchAccount(index, ['employeeNumber', 'email'], { employeeNumber: 'E-2', email: 'shared@example.org' })).toMatchObject({ identityId: 'bob', rule: 'employeeNumber' });
  });
  it('is ambiguous when a rule yields several and none yields one', () => {
    expect(matchAccount(index, ['email', 'username'], { email: 'shared@example.org', username: 'nobody' })).toEqual({ state: 'ambiguous', candidates: ['bea', 'bob'], rule: 'email' });
  });
  it('is an orphan when nothing matches', () => {
    expect(matchAccount(index, ['email', 'username'], { email: 'x@example.org' })).toEqual({ state: 'orphan' });
    expect(matchAccount(index, ['email'], {})).toEqual({ state: 'orphan' });
  });
});
