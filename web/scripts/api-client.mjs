// Generates the console's typed API client types (web/src/api/schema.d.ts) from openapi.json.
//   node web/scripts/api-client.mjs          write the file
//   node web/scripts/api-client.mjs --check  fail when the file differs from openapi.json (CI)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { writeOrCheck } from '../../scripts/generated-file.js';

const documentPath = fileURLToPath(new URL('../../openapi.json', import.meta.url));
const outPath = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));
const header = '/* Generated from openapi.json by `npm run api-client`; do not edit. */\n';

const ast = await openapiTS(JSON.parse(readFileSync(documentPath, 'utf8')), { alphabetize: false });
const generated = header + astToString(ast);

writeOrCheck(outPath, generated, 'web/src/api/schema.d.ts');
