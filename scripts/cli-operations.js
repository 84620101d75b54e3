#!/usr/bin/env node
/**
 * Generates src/cli/client/operations.generated.ts from openapi.json: for every native operation
 * (/api/v1), its method, path, summary, path and query parameters, JSON body fields and response
 * media types. The client commands of `grantory` (src/cli/client/commands.ts) name operations by
 * operationId and take their arguments, flags and help from this file, so they cannot drift from
 * the API: the command table only type-checks against operationIds that exist, and
 * `npm run api-client:check` fails when this file differs from openapi.json.
 *
 *   node scripts/cli-operations.js          write the file (npm run api-client runs it)
 *   node scripts/cli-operations.js --check  fail when the file differs from openapi.json
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOrCheck } from './generated-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const documentPath = join(root, 'openapi.json');
const outPath = join(root, 'src/cli/client/operations.generated.ts');

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The document's `$ref`s resolved (the document inlines most schemas; this keeps a future ref working). */
function resolver(document) {
  return function resolve(schema) {
    let current = schema;
    while (current && typeof current.$ref === 'string') {
      current = current.$ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    }
    return current ?? {};
  };
}

/** A field's kind for the command line: a scalar type, an enum of strings, or JSON for anything else. */
function kindOf(schema, resolve) {
  const s = resolve(schema);
  const branches = s.anyOf ?? s.oneOf;
  if (branches) {
    const parts = branches.map(resolve).filter((b) => b.type !== 'null');
    const literals = parts.flatMap((b) => (Array.isArray(b.enum) ? b.enum : b.const !== undefined ? [b.const] : []));
    if (literals.length === parts.length && literals.every((v) => typeof v === 'string')) return { type: 'string', enum: literals };
    if (parts.length === 1) return kindOf(parts[0], resolve);
    return { type: 'json' };
  }
  if (s.allOf) return { type: 'json' };
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string')) return { type: 'string', enum: s.enum };
  if (['string', 'integer', 'number', 'boolean'].includes(s.type)) return { type: s.type };
  if (s.type === 'array') {
    const item = resolve(s.items ?? {});
    if (item.type === 'string' && !item.enum) return { type: 'string[]' };
  }
  return { type: 'json' };
}

const oneLine = (text) => (text ?? '').split('\n')[0].trim();

function field(name, schema, required, description, resolve) {
  const kind = kindOf(schema, resolve);
  const s = resolve(schema);
  const entry = { name, type: kind.type };
  if (kind.enum) entry.enum = kind.enum;
  if (required) entry.required = true;
  const text = oneLine(description ?? s.description ?? (s.anyOf ?? []).map(resolve).find((b) => b.description)?.description);
  if (text) entry.description = text;
  return entry;
}

function bodyOf(operation, resolve) {
  const content = resolve(operation.requestBody ?? {}).content;
  if (!content) return undefined;
  const json = content['application/json'];
  if (!json) return { contentType: Object.keys(content)[0], fields: [] };
  const schema = resolve(json.schema ?? {});
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, property]) => field(name, property, required.has(name), undefined, resolve));
  return { contentType: 'application/json', fields, required: operation.requestBody.required === true };
}

/** `list` when a 2xx JSON answer is a page (`items` and `nextCursor`). */
function responseOf(operation, resolve) {
  const ok = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('2'));
  if (!ok) return { status: 204, mediaTypes: [] };
  const content = resolve(ok[1]).content ?? {};
  const schema = resolve(content['application/json']?.schema ?? {});
  // A page with more fields (e.g. the revision it was read at) is an allOf of the page and them.
  const properties = Object.assign({}, ...(schema.allOf ?? []).map((part) => resolve(part).properties ?? {}), schema.properties ?? {});
  return { status: Number(ok[0]), mediaTypes: Object.keys(content), ...('items' in properties && 'nextCursor' in properties ? { paged: true } : {}) };
}

export function generate(document) {
  const resolve = resolver(document);
  const operations = {};
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation?.operationId) continue;
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map(resolve).filter((p) => p.in === 'path' || p.in === 'query');
      operations[operation.operationId] = {
        method: method.toUpperCase(),
        path,
        summary: oneLine(operation.summary),
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query').map((p) => field(p.name, p.schema ?? {}, p.required === true, p.description, resolve)),
        body: bodyOf(operation, resolve),
        response: responseOf(operation, resolve),
      };
    }
  }
  const sorted = Object.fromEntries(Object.keys(operations).sort().map((id) => [id, operations[id]]));
  return [
    '/* Generated from openapi.json by `npm run api-client` (scripts/cli-operations.js); do not edit. */',
    "import type { OperationSpec } from './operation-spec.ts';",
    '',
    '// One operation a line.',
    'export const OPERATIONS = {',
    ...Object.entries(sorted).map(([id, operation]) => `  ${id}: ${JSON.stringify(operation)},`),
    '} as const satisfies Record<string, OperationSpec>;',
    '',
    'export type OperationId = keyof typeof OPERATIONS;',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeOrCheck(outPath, generate(JSON.parse(readFileSync(documentPath, 'utf8'))), 'src/cli/client/operations.generated.ts');
}
