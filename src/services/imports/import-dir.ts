/**
 * The import directory (`GRANTORY_IMPORT_DIR`): each application's files live in its own
 * folder, the connector's `directory` or else the application's id. Paths are resolved
 * strictly: a folder name with `..` or an absolute path, a folder that is (or passes
 * through) a symlink leading out of the import directory, and a file that is a symlink
 * leading out of the application's folder are refused with a {@link PathEscapeError}
 * (the caller audits it). Real paths are compared, so `a/../../etc` and symlink tricks fail alike.
 *
 * ```ts
 * const folder = await resolveApplicationFolder('/srv/imports', 'core-banking');
 * const files = await findFiles(folder, 'grants*.csv'); // [{ name, path, size }]
 * ```
 */
import { lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { folderProblem, patternProblem, patternToRegExp } from '../../domain/connector.ts';

export class PathEscapeError extends Error {
  constructor(
    readonly attempted: string,
    message: string,
  ) {
    super(message);
  }
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..');
}

export interface ApplicationFolder {
  /** The real path of the import directory. */
  root: string;
  /** The real path of the application's folder (inside root). */
  path: string;
  /** The folder name as configured. */
  name: string;
  exists: boolean;
}

/** Creates the import directory if needed and returns its real path. */
export async function importRoot(importDir: string): Promise<string> {
  await mkdir(resolve(importDir), { recursive: true });
  return realpath(resolve(importDir));
}

export async function resolveApplicationFolder(importDir: string, folderName: string): Promise<ApplicationFolder> {
  const problem = folderProblem(folderName);
  if (problem || isAbsolute(folderName)) throw new PathEscapeError(folderName, `the folder "${folderName}" ${problem ?? 'must be a relative path'}`);
  const root = await importRoot(importDir);
  const lexical = resolve(root, folderName);
  if (!inside(root, lexical)) throw new PathEscapeError(folderName, `the folder "${folderName}" is outside the import directory`);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { root, path: lexical, name: folderName, exists: false };
    throw e;
  }
  if (!inside(root, real)) throw new PathEscapeError(folderName, `the folder "${folderName}" leads outside the import directory`);
  const info = await stat(real);
  if (!info.isDirectory()) return { root, path: real, name: folderName, exists: false };
  return { root, path: real, name: folderName, exists: true };
}

export interface FoundFile {
  name: string;
  path: string;
  size: number;
}

/** Regular files of the folder whose names match `pattern`, sorted by name. */
export async function findFiles(folder: ApplicationFolder, pattern: string): Promise<FoundFile[]> {
  const problem = patternProblem(pattern);
  if (problem) throw new PathEscapeError(pattern, `the pattern "${pattern}" ${problem}`);
  if (!folder.exists) return [];
  const re = patternToRegExp(pattern);
  const names = (await readdir(folder.path)).filter((n) => !n.startsWith('.') && re.test(n)).sort();
  const files: FoundFile[] = [];
  for (const name of names) {
    const lexical = join(folder.path, name);
    const link = await lstat(lexical);
    let real = lexical;
    if (link.isSymbolicLink()) {
      try {
        real = await realpath(lexical);
      } catch {
        throw new PathEscapeError(`${folder.name}/${name}`, `the file "${folder.name}/${name}" is a broken symlink`);
      }
      if (!inside(folder.path, real)) {
        throw new PathEscapeError(`${folder.name}/${name}`, `the file "${folder.name}/${name}" is a symlink leading outside the application's folder`);
      }
    }
    const info = await stat(real);
    if (!info.isFile()) continue;
    files.push({ name, path: real, size: info.size });
  }
  return files;
}

/** Re-checks a recorded file path just before it is opened (it may have changed since). */
export async function checkedFilePath(folder: ApplicationFolder, name: string): Promise<string> {
  if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') {
    throw new PathEscapeError(name, `the file name "${name}" is not a plain name`);
  }
  const real = await realpath(join(folder.path, name));
  if (!inside(folder.path, real)) throw new PathEscapeError(`${folder.name}/${name}`, `the file "${folder.name}/${name}" leads outside the application's folder`);
  return real;
}
