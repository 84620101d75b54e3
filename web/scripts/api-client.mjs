// Generates the console's typed API client types (web/src/api/schema.d.ts) from openapi.json.
//   node web/scripts/api-client.mjs          write the file
//   node web/scripts/api-client.mjs --check  fail when the file differs from openapi.json (CI)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const documentPath = fileURLToPath(new URL('../../openapi.json', import.meta.url));
const outPath = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));
const header = '/* Generated from openapi.json by `npm run api-client`; do not edit. */\n';

const ast = await openapiTS(JSON.parse(readFileSync(documentPath, 'utf8')), { alphabetize: false });
const generated = header + astToString(ast);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(outPath, 'utf8');
  } catch {
    // A missing file is drift too.
  }
  if (current !== generated) {
    console.error('web/src/api/schema.d.ts does not match openapi.json: run `npm run api-client` and commit the result');
    process.exit(1);
  }
  console.log('web/src/api/schema.d.ts matches openapi.json');
} else {
  writeFileSync(outPath, generated);
  console.log(`wrote ${outPath}`);
}
