import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileGroup } from '../../src/domain/connector.ts';
import { normalizeConnector } from '../../src/domain/connector.ts';
import { FileProblem, readImportFile, type Row, type RowProblem } from '../../src/services/imports/parse.ts';
import { buildSnapshot, ImportFailure } from '../../src/services/imports/snapshot.ts';

const dir = mkdtempSync(join(tmpdir(), 'grantory-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const group = (over: Partial<FileGroup> = {}): FileGroup => ({
  id: '3f2b8c1e-0000-4000-8000-000000000001',
  name: 'grants',
  pattern: '*.csv',
  required: true,
  format: 'csv',
  delimiter: ',',
  encoding: 'utf-8',
  columns: { accountName: 'login', email: 'mail', permission: 'entitlement', accountStatus: 'status' },
  ...over,
});

let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `f${(n += 1)}.csv`);
  writeFileSync(path, content);
  return path;
}

async function read(content: string | Buffer, g = group()): Promise<(Row | RowProblem)[]> {
  const out: (Row | RowProblem)[] = [];
  for await (const item of readImportFile({ path: file(content), name: 'grants.csv', group: g })) out.push(item);
  return out;
}
const rows = (items: (Row | RowProblem)[]) => items.filter((i): i is Row => i.kind === 'row').map((r) => r.values);
const problems = (items: (Row | RowProblem)[]) => items.filter((i): i is RowProblem => i.kind === 'problem');

const CSV = 'login,mail,entitlement,status\nann,ann@x.org,read,active\nbob,bob@x.org,write,disabled\n';

describe('the streaming parser', () => {
  it('reads UTF-8 with and without a BOM', async () => {
    expect(rows(await read(CSV))).toEqual([
      { accountName: 'ann', email: 'ann@x.org', permission: 'read', accountStatus: 'active' },
      { accountName: 'bob', email: 'bob@x.org', permission: 'write', accountStatus: 'disabled' },
    ]);
    expect(rows(await read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV)])))).toHaveLength(2);
  });

  it('detects UTF-16 LE and BE, with and without a BOM', async () => {
    const text = CSV.replace('ann', 'änn');
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.from(le).swap16();
    for (const bytes of [Buffer.concat([Buffer.from([0xff, 0xfe]), le]), Buffer.concat([Buffer.from([0xfe, 0xff]), be]), le, be]) {
      const got = rows(await read(bytes));
      expect(got[0]).toMatchObject({ accountName: 'änn' });
      expect(got).toHaveLength(2);
    }
  });

  it('reads latin1 when configured', async () => {
    const got = rows(await read(Buffer.from('login,mail,entitlement,status\nJosé,j@x.org,read,active\n', 'latin1'), group({ encoding: 'latin1' })));
    expect(got[0]!.accountName).toBe('José');
  });

  it('refuses bytes that are not UTF-8', async () => {
    await expect(read(Buffer.concat([Buffer.from('login,mail,entitlement,status\nann,'), Buffer.from([0xc3, 0x28]), Buffer.from(',read,active\n')]))).rejects.toThrow(FileProblem);
  });

  it('reports ragged rows with their line and keeps going', async () => {
    const items = await read('login,mail,entitlement,status\nann,a@x.org,read,active\nbob,b@x.org\ncid,c@x.org,read,active,extra\ndan,d@x.org,read,active\n');
    expect(rows(items).map((r) => r.accountName)).toEqual(['ann', 'dan']);
    expect(problems(items).map((p) => [p.file, p.line])).toEqual([['grants.csv', 3], ['grants.csv', 4]]);
    expect(problems(items)[0]!.message).toMatch(/2 fields, the header has 4/);
  });

  it('reports an unclosed quote with its line', async () => {
    const err = await read('login,mail,entitlement,status\nann,a@x.org,read,active\nbob,"b@x.org,write,active\ncid,c@x.org,read,active\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileProblem);
    expect((err as FileProblem).message).toMatch(/grants\.csv, line \d+: a quote opened here is never closed/);
  });

  it('reports a stray quote inside a field as a bad row', async () => {
    const items = await read('login,mail,entitlement,status\nann,a@x.org,re"ad,active\nbob,b@x.org,write,active\n');
    expect(problems(items)).toHaveLength(1);
    expect(problems(items)[0]!.line).toBe(2);
    expect(rows(items).map((r) => r.accountName)).toEqual(['bob']);
  });

  it('refuses duplicate and missing headers, naming them', async () => {
    await expect(read('login,mail,login,entitlement,status\n')).rejects.toThrow(/line 1: duplicate header "login"/);
    await expect(read('login,entitlement\nann,read\n')).rejects.toThrow(/line 1: missing required header "status" \(accountStatus\), "mail" \(email\)/);
    await expect(read('')).rejects.toThrow(/empty/);
  });

  it('reports an empty account name', async () => {
    const items = await read('login,mail,entitlement,status\n ,a@x.org,read,active\n');
    expect(problems(items)[0]).toMatchObject({ line: 2, message: expect.stringMatching(/account name/) });
  });

  it('keeps cells that start with = + - @ verbatim', async () => {
    const got = rows(await read('login,mail,entitlement,status\n=cmd|calc,+1@x.org,-read,@admin\n'));
    expect(got[0]).toEqual({ accountName: '=cmd|calc', email: '+1@x.org', permission: '-read', accountStatus: '@admin' });
  });

  it('reads other delimiters and quoted fields with line breaks', async () => {
    const items = await read('login;mail;entitlement;status\n"ann;x";"a@x.org";"multi\nline";active\n"bob;y";"b@x.org";"read";active\n', group({ delimiter: ';' }));
    expect(rows(items)).toEqual([{ accountName: 'bob;y', email: 'b@x.org', permission: 'read', accountStatus: 'active' }]);
    // The quoted line break is read as part of the value — and a permission name holds no control character.
    expect(problems(items)).toMatchObject([{ message: 'the permission ("entitlement") value must not contain control characters' }]);
  });

  it('reads JSON lines and reports bad lines', async () => {
    const g = group({ format: 'jsonl' });
    const items = await read('{"login":"ann","mail":"a@x.org","entitlement":"read"}\nnot json\n[1]\n{"mail":"x"}\n\n{"login":7,"entitlement":"w"}\n', g);
    expect(rows(items)).toEqual([{ accountName: 'ann', email: 'a@x.org', permission: 'read' }, { accountName: '7', permission: 'w' }]);
    expect(problems(items).map((p) => p.line)).toEqual([2, 3, 4]);
  });

  it('makes a row with a control character in a value a bad row (CSV and JSON lines)', async () => {
    const csv = await read('login,mail,entitlement,status\nann,ann@x.org,re\u0000ad,active\nbob,bob@x.org,write,active\n');
    expect(rows(csv).map((r) => r.accountName)).toEqual(['bob']);
    expect(problems(csv)).toEqual([{ kind: 'problem', file: 'grants.csv', line: 2, message: 'the permission ("entitlement") value must not contain control characters' }]);
    const g = group({ format: 'jsonl' });
    const jsonl = await read('{"login":"a\\u0000nn","entitlement":"read"}\n{"login":"bob","entitlement":"read"}\n', g);
    expect(rows(jsonl).map((r) => r.accountName)).toEqual(['bob']);
    expect(problems(jsonl).map((p) => p.line)).toEqual([1]);
  });
});

describe('the snapshot and the bad-row budget', () => {
  const connector = (maxBadRows: number) =>
    normalizeConnector({
      type: 'file',
      fileGroups: [{ id: '3f2b8c1e-0000-4000-8000-000000000001', name: 'grants', pattern: '*.csv', columns: { accountName: 'login', email: 'mail', permission: 'entitlement', accountStatus: 'status' } }],
      matching: ['email'],
      maxBadRows,
    }).connector!;
  const files = (path: string) => [{ fileGroupId: '3f2b8c1e-0000-4000-8000-000000000001', name: 'grants.csv', path, size: 0 }];

  it('groups rows into accounts with grants and status', async () => {
    const snap = await buildSnapshot(files(file('login,mail,entitlement,status\nann,a@x.org,read,active\nann,a@x.org,write,active\nbob,b@x.org,,disabled\n')), connector(0));
    expect(snap.rowsRead).toBe(3);
    expect([...snap.accounts.keys()]).toEqual(['ann', 'bob']);
    expect(snap.accounts.get('ann')!.grants).toHaveLength(2);
    expect(snap.accounts.get('bob')).toMatchObject({ status: 'disabled', keys: { email: 'b@x.org' } });
    expect(snap.accounts.get('bob')!.grants).toHaveLength(0);
  });

  it('keeps each grant of an account once, however its rows repeat', async () => {
    const rows = ['login,mail,entitlement,status', 'ann,a@x.org,read,active', 'ann,a@x.org,read,active', 'bob,b@x.org,read,active', 'ann,a@x.org,write,active', 'ann,a@x.org,read,active'];
    // An account with many grants (past the list's linear check), each listed twice.
    for (let round = 0; round < 2; round += 1) for (let g = 0; g < 100; g += 1) rows.push(`cid,c@x.org,p-${g},active`);
    const snap = await buildSnapshot(files(file(`${rows.join('\n')}\n`)), connector(0));
    const names = (login: string) => snap.accounts.get(login)!.grants.map((c) => snap.codes.decode(c).permission);
    expect(names('ann')).toEqual(['read', 'write']);
    expect(names('bob')).toEqual(['read']);
    expect(names('cid')).toHaveLength(100);
    expect(new Set(names('cid')).size).toBe(100);
  });

  it('fails past the budget, naming the file and line', async () => {
    const content = 'login,mail,entitlement,status\nann,a\nbob,b\ncid,c@x.org,read,active\n';
    await expect(buildSnapshot(files(file(content)), connector(1))).rejects.toThrow(ImportFailure);
    await expect(buildSnapshot(files(file(content)), connector(1))).rejects.toThrow(/more than 1 bad rows.*grants\.csv, line 3/);
    const ok = await buildSnapshot(files(file(content)), connector(2));
    expect(ok.badRows).toBe(2);
    expect(ok.problems.map((p) => p.line)).toEqual([2, 3]);
  });
});
