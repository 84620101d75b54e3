/**
 * Vitest global setup: the tests that spawn `grantory` run bin/grantory.js, which runs the
 * build in dist/ — as a user's install does. Built here when it is missing or older than
 * any file in src/ (or package.json), so a test never runs stale code; about a second of
 * esbuild. The other tests import the TypeScript sources directly.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildServer } from '../../scripts/build-server.js';

const ROOT = resolve(import.meta.dirname, '../..');

function newestChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export default async function setup(): Promise<void> {
  const built = join(ROOT, 'dist', 'run.js');
  const sources = Math.max(newestChange(join(ROOT, 'src')), statSync(join(ROOT, 'package.json')).mtimeMs, statSync(join(ROOT, 'scripts', 'build-server.js')).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  await buildServer();
}
