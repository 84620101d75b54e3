/**
 * Writes a generated file, or with --check fails when the file on disk differs (CI): shared by
 * the generators of checked artifacts (web/scripts/api-client.mjs, scripts/cli-operations.js).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** `label` names the file in messages, e.g. `web/src/api/schema.d.ts`. */
export function writeOrCheck(outPath, generated, label, check = process.argv.includes('--check')) {
  if (check) {
    let current = '';
    try {
      current = readFileSync(outPath, 'utf8');
    } catch {
      // A missing file is drift too.
    }
    if (current !== generated) {
      console.error(`${label} does not match openapi.json: run \`npm run api-client\` and commit the result`);
      process.exit(1);
    }
    console.log(`${label} matches openapi.json`);
  } else {
    writeFileSync(outPath, generated);
    console.log(`wrote ${outPath}`);
  }
}
