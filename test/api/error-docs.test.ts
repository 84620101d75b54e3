/**
 * The error tables of the documentation and the error catalogue agree both ways: every
 * code of the catalogue is documented with its status (and, for the Checkmarx profile, its
 * `messageCode`), and every code a table names exists, with the status it has.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cxErrorOf } from '../../src/api/compat/checkmarx/errors.ts';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../src/domain/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CODES = Object.keys(ERROR_CATALOGUE).sort() as ErrorCode[];

/**
 * The rows of the Markdown tables in `file` whose header has every one of `columns`, as
 * records by column name, cells unwrapped from their backticks.
 */
function tableRows(file: string, columns: string[]): Record<string, string>[] {
  const lines = readFileSync(resolve(ROOT, file), 'utf8').split('\n');
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim().replace(/^`(.*)`$/, '$1'));
  const rows: Record<string, string>[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i]!.trim().startsWith('|')) continue;
    const header = cells(lines[i]!);
    const inTable = (j: number) => j < lines.length && lines[j]!.trim().startsWith('|');
    if (columns.every((c) => header.includes(c)) && inTable(i + 1) && /^[\s|:-]+$/.test(lines[i + 1]!)) {
      for (i += 2; inTable(i); i += 1) rows.push(Object.fromEntries(cells(lines[i]!).map((v, k) => [header[k], v])));
    }
    while (inTable(i + 1)) i += 1;
  }
  return rows;
}

describe('documented error tables', () => {
  it.each(['docs/api.md', 'docs/architecture.md'])('%s lists every code of the catalogue with its status, and no other', (file) => {
    const rows = tableRows(file, ['code', 'status']);
    expect(rows.map((r) => r.code).sort()).toEqual(CODES);
    for (const row of rows) expect([row.code, Number(row.status)]).toEqual([row.code, ERROR_CATALOGUE[row.code as ErrorCode].status]);
  });

  it("docs/compat-checkmarx.md lists every code with the messageCode the profile sends, and no other", () => {
    const rows = tableRows('docs/compat-checkmarx.md', ['messageCode', 'code']);
    expect(rows.map((r) => r.code).sort()).toEqual(CODES);
    for (const row of rows) {
      const sent = cxErrorOf(new AppError(row.code as ErrorCode, 'x')).messageCode;
      expect([row.code, Number(row.messageCode)]).toEqual([row.code, sent]);
      // The documented rule: the HTTP status times 100 plus a small index.
      expect(Math.floor(sent / 100)).toBe(ERROR_CATALOGUE[row.code as ErrorCode].status);
    }
    const sent = CODES.map((code) => cxErrorOf(new AppError(code, 'x')).messageCode);
    expect(new Set(sent).size).toBe(CODES.length);
  });
});
