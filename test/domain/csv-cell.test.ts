/**
 * The CSV formula guard (OWASP "CSV Injection"): a table of the attacks found, and a
 * property over any text: a spreadsheet that honours quotes, whichever separator its
 * locale uses, sees exactly one cell, the text itself or the text behind an apostrophe,
 * and never a cell that starts with a formula character.
 */
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from '../../src/domain/export-format.ts';

const TRIGGERS = ['=', '+', '-', '@', '|', '\t', '\r', '＝', '＋', '－', '＠', '｜', '﹦', '﹢', '﹣', '﹫', '−'];
const INVISIBLE = [' ', '\n', '\u00a0', '\u200b', '\u200d', '\u2060', '\u202e', '\u2066', '\ufeff', '\u0001'];
const SEPARATORS = [',', ';', '\t', '|'];

describe('csvCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    ['|calc', `"'|calc"`],
    ['cmd|/C calc', `"cmd|/C calc"`],
    ['a;=HYPERLINK("http://x")', `"'a;=HYPERLINK(""http://x"")"`],
    ['a; =1', `"'a; =1"`],
    ['a,@x', `"'a,@x"`],
    ['a|-x', `"'a|-x"`],
    ['\n=1+1', `"'\n=1+1"`],
    [' =1+1', "' =1+1"],
    ['\u200b=1+1', "'\u200b=1+1"],
    ['\ufeff+1', "'\ufeff+1"],
    ['\u202e=1', "'\u202e=1"],
    ['＝1+1', "'＝1+1"],
    ['＋1', "'＋1"],
    ['＠x', "'＠x"],
    ['−1', "'−1"],
    ['plain', 'plain'],
    ['2026-12-02', '2026-12-02'],
    ['a-b', 'a-b'],
    ['a,b', '"a,b"'],
    ['a;b', '"a;b"'],
    ['say "hi"', '"say ""hi"""'],
    ['', ''],
  ])('%j -> %j', (text, cell) => {
    expect(csvCell(text)).toBe(cell);
  });

  it('writes numbers, booleans and empty values as they are', () => {
    expect([-5, 0, 3.5, true, null, undefined].map(csvCell)).toEqual(['-5', '0', '3.5', 'true', '', '']);
    expect(csvLine([-5, '-5', 'x'])).toBe("-5,'-5,x\r\n");
  });

  const text = fc
    .array(fc.oneof(fc.constantFrom(...TRIGGERS, ...INVISIBLE, ...SEPARATORS, '"', "'"), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 8 })
    .map((parts) => parts.join(''));

  it('gives one cell under any separator, the text kept, no formula start', () => {
    const formulaStart = new RegExp(`^[\\s\\p{Cc}\\p{Cf}]*[${TRIGGERS.join('').replace('-', '\\-')}]`, 'u');
    fc.assert(
      fc.property(text, (value) => {
        const cell = csvCell(value);
        for (const delimiter of SEPARATORS) {
          const rows = parse(`${cell}\r\n`, { delimiter, record_delimiter: '\r\n', relax_column_count: true }) as string[][];
          const read = rows.length ? rows : [['']];
          expect(read).toHaveLength(1);
          expect(read[0]).toHaveLength(1);
          const got = read[0]![0]!;
          expect([value, `'${value}`]).toContain(got);
          expect(got).not.toMatch(formulaStart);
          // A formula start behind a separator is guarded too (a reader that splits cells
          // before honouring quotes).
          if (SEPARATORS.some((s) => value.split(s).slice(1).some((part) => formulaStart.test(part)))) expect(got.startsWith("'")).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
