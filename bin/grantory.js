#!/usr/bin/env node
// Entry point of the `grantory` command: runs the compiled server in dist/, which `npm ci`
// builds (the `prepare` script) and `npm run build` rebuilds after a change to src/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/run.js', import.meta.url);
if (!existsSync(entry)) {
  // A checkout with its development dependencies can build it now; an install without them cannot.
  const builder = new URL('../scripts/build-server.js', import.meta.url);
  let built = false;
  if (existsSync(builder)) {
    process.stderr.write('grantory: dist/ is missing; building it (npm run build)\n');
    try {
      const { buildServer } = await import(builder.href);
      await buildServer();
      built = true;
    } catch (e) {
      process.stderr.write(`grantory: could not build dist/: ${e.message}\n`);
    }
  }
  if (!built) {
    process.stderr.write('grantory: the compiled server (dist/) is missing: run `npm ci` (which builds it) or `npm run build`\n');
    process.exit(2);
  }
}
// Stack traces name the TypeScript sources (dist/ carries source maps).
process.setSourceMapsEnabled(true);
await import(entry.href);
