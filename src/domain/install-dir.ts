/**
 * Where Grantory is installed (the folder of its package.json), found from this module's
 * own location so that it is the same whether the sources run (tests, `npm run dev`) or
 * the build in dist/ does. Files installed beside the code are found from it, e.g. the
 * console's built files (web/dist/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findInstallDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'grantory') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find Grantory's package.json above ${from}`);
  }
}

export const INSTALL_DIR = findInstallDir(dirname(fileURLToPath(import.meta.url)));

/** The console's built files (`npm run build` writes them); the server serves the console when they exist. */
export const CONSOLE_DIR = join(INSTALL_DIR, 'web', 'dist');
