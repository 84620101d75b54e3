#!/usr/bin/env node
/**
 * Compiles the server and the `grantory` command into dist/ (what bin/grantory.js runs):
 * one esbuild bundle of src/cli/run.ts, ES modules for Node 20, with source maps. Packages
 * stay in node_modules (not bundled), and every command module that main.ts imports on demand
 * is a chunk of its own, so `grantory --help` loads neither Fastify nor a database driver.
 * Type checking is `npm run typecheck`'s job; this only transpiles (about a second).
 *
 *   node scripts/build-server.js          (npm run build:server; npm ci runs it through prepare)
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds dist/ afresh; resolves with the number of files written. */
export async function buildServer() {
  const outdir = join(root, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { run: 'src/cli/run.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
    metafile: true,
  });
  return Object.keys(result.metafile.outputs).length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await buildServer();
  console.log(`built dist/ (${files} files) in ${Date.now() - started} ms`);
}
