import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkedFilePath, findFiles, PathEscapeError, resolveApplicationFolder } from '../../src/services/imports/import-dir.ts';

const base = mkdtempSync(join(tmpdir(), 'grantory-importdir-'));
const root = join(base, 'imports');
const outside = join(base, 'outside');
mkdirSync(join(root, 'app'), { recursive: true });
mkdirSync(outside, { recursive: true });
writeFileSync(join(root, 'app', 'grants-1.csv'), 'a');
writeFileSync(join(root, 'app', 'grants-2.csv'), 'bb');
writeFileSync(join(root, 'app', 'other.txt'), 'c');
writeFileSync(join(outside, 'secret.csv'), 'secret');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(join(outside, 'secret.csv'), join(root, 'app', 'grants-9.csv'));
mkdirSync(join(root, 'linked'));
symlinkSync(join(root, 'app', 'grants-1.csv'), join(root, 'linked', 'grants-inside.csv'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the import directory', () => {
  it('finds matching regular files in the application folder, sorted', async () => {
    const app = await resolveApplicationFolder(root, 'app');
    expect((await findFiles(app, 'grants-[12].csv'))).toEqual([]);
    expect((await findFiles(app, 'other.*')).map((f) => [f.name, f.size])).toEqual([['other.txt', 1]]);
    expect((await findFiles(app, 'grants-?.csv').catch((e: unknown) => e))).toBeInstanceOf(PathEscapeError);
  });

  it('refuses a symlink to another application folder', async () => {
    const folder = await resolveApplicationFolder(root, 'linked');
    await expect(findFiles(folder, 'grants*.csv')).rejects.toThrow(/symlink leading outside the application's folder/);
  });

  it('reports a missing folder as empty, not an error', async () => {
    const folder = await resolveApplicationFolder(root, 'not-there');
    expect(folder.exists).toBe(false);
    expect(await findFiles(folder, '*.csv')).toEqual([]);
  });

  it.each(['..', '../outside', 'app/../../outside', '/etc', join(outside)])('refuses the folder %s', async (dir) => {
    await expect(resolveApplicationFolder(root, dir)).rejects.toThrow(PathEscapeError);
  });

  it('refuses a folder that is a symlink leading out', async () => {
    await expect(resolveApplicationFolder(root, 'escape')).rejects.toThrow(/leads outside the import directory/);
  });

  it('refuses a file that is a symlink leading out of the folder', async () => {
    const app = await resolveApplicationFolder(root, 'app');
    await expect(findFiles(app, 'grants-9.csv')).rejects.toThrow(/symlink leading outside/);
    await expect(checkedFilePath(app, 'grants-9.csv')).rejects.toThrow(PathEscapeError);
    await expect(checkedFilePath(app, '../outside/secret.csv')).rejects.toThrow(PathEscapeError);
  });

  it('refuses patterns with folders', async () => {
    const app = await resolveApplicationFolder(root, 'app');
    await expect(findFiles(app, '../*.csv')).rejects.toThrow(PathEscapeError);
  });
});
