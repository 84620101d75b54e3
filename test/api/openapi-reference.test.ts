/**
 * The API reference is fit for code generation: unique operation ids, descriptions, tags in
 * two groups (native first), examples that validate against their schemas, a /docs page that
 * names the product and serves its renderer from this server, and a client that
 * openapi-typescript generates from the document compiles against a small program.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import openapiTS, { astToString } from 'openapi-typescript';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { operationIdOf, PRODUCT_VERSION } from '../../src/api/openapi-document.ts';

const run = promisify(execFile);
type Operation = { operationId?: string; description?: string; tags?: string[]; requestBody?: { content?: Record<string, { schema?: unknown; example?: unknown }> }; responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown }> }> };
type Doc = { info: { title: string; version: string }; tags: { name: string }[]; 'x-tagGroups': { name: string; tags: string[] }[]; paths: Record<string, Record<string, Operation>>; components: object };

const leaves = (value: unknown): unknown[] =>
  value && typeof value === 'object' ? Object.values(value).flatMap(leaves) : [value];

describe('the API reference', () => {
  let t: TestApp;
  let doc: Doc;
  const operations: [string, Operation][] = [];
  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods)) operations.push([`${method.toUpperCase()} ${path}`, op]);
  });
  afterAll(async () => t.close());

  it('gives every operation a unique operationId and a description saying who may call it', () => {
    const ids = operations.map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(operations.length);
    const undescribed = operations.filter(([, op]) => !/(No credential needed|authenticates itself|Any authenticated caller|Needs (the right|one of the rights)|console session cookie)/.test(op.description ?? '')).map(([k]) => k);
    expect(undescribed).toEqual([]);
    expect(doc.paths['/api/v1/identities/{id}']!.get!.operationId).toBe('getIdentitiesById');
    expect(doc.paths['/cxrestapi/auth/Users/{id}']!.get!.operationId).toBe('checkmarxGetCxrestapiAuthUsersById');
  });

  it('derives operation ids from method and path, vendor profiles prefixed', () => {
    expect(operationIdOf('POST', '/api/v1/assignments/:id/pause')).toBe('postAssignmentsByIdPause');
    expect(operationIdOf('GET', '/.well-known/jwks.json')).toBe('getWellKnownJwksJson');
    expect(operationIdOf('GET', '/api/external/members', 'celonis')).toBe('celonisGetExternalMembers');
  });

  it('tags every operation with a declared tag, native API group first, vendor profiles after', () => {
    const groups = doc['x-tagGroups'];
    expect(groups.map((g) => g.name)).toEqual(['Native API', 'Vendor profiles']);
    expect(groups[1]!.tags.every((tag) => tag.endsWith(' profile'))).toBe(true);
    expect(doc.tags.map((tag) => tag.name)).toEqual(groups.flatMap((g) => g.tags));
    const native = new Set(groups[0]!.tags);
    for (const [key, op] of operations) {
      expect(op.tags?.length, key).toBe(1);
      expect(groups.some((g) => g.tags.includes(op.tags![0]!)), key).toBe(true);
      if (key.includes(' /api/v1/')) expect(native.has(op.tags![0]!), key).toBe(true);
    }
  });

  it('carries an example on every JSON request body and success response, valid against its schema and never a bare type name', () => {
    const ajv = new Ajv2020({ strict: false });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const problems: string[] = [];
    for (const [key, op] of operations) {
      const contents = [['request', op.requestBody?.content], ...Object.entries(op.responses).filter(([s]) => /^2/.test(s)).map(([s, r]) => [s, r.content])] as const;
      for (const [what, content] of contents) {
        for (const [mediaType, media] of Object.entries(content ?? {})) {
          if (!/json/.test(mediaType) || !media.schema) continue;
          if (media.example === undefined) problems.push(`${key} ${what}: no example`);
          else if (leaves(media.example).some((v) => v === 'string' || v === '')) problems.push(`${key} ${what}: a placeholder example`);
          const schema = JSON.parse(JSON.stringify(media.schema).replace(/"#\/components/g, '"doc#/components'));
          if (!ajv.validate(schema, media.example)) problems.push(`${key} ${what}: ${ajv.errorsText(ajv.errors)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('serves /docs with the product name and version, its renderer from this server, no CDN', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain(`<title>Grantory ${PRODUCT_VERSION} — API reference</title>`);
    expect(page.body).toContain('data-url="/openapi.json"');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(doc.info).toMatchObject({ title: 'Grantory API', version: PRODUCT_VERSION });
    const script = await t.app.inject({ method: 'GET', url: '/docs/scalar.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.body.length).toBeGreaterThan(100_000);
  });

  describe('a client generated by openapi-typescript', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantory-client-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
    const compile = async (program: string) => {
      writeFileSync(join(dir, 'client.ts'), program);
      return run(tsc, ['-p', dir]).then(
        () => null,
        (e: { stdout?: string }) => e.stdout ?? String(e),
      );
    };

    beforeAll(async () => {
      const generated = astToString(await openapiTS(JSON.parse(JSON.stringify(doc))));
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'generated'));
      writeFileSync(join(dir, 'generated', 'grantory.ts'), generated);
      copyFileSync('examples/api-client/tsconfig.json', join(dir, 'tsconfig.json'));
    }, 120_000);

    it('compiles with the example program (examples/api-client/client.ts)', async () => {
      const { readFileSync } = await import('node:fs');
      expect(await compile(readFileSync('examples/api-client/client.ts', 'utf8'))).toBeNull();
    }, 120_000);

    it('fails to compile a program that uses an operation or field the document does not have', async () => {
      const wrong = "import type { operations } from './generated/grantory.ts';\nexport const x: operations['getIdentitiesById']['responses'][200]['content']['application/json']['colour'] = 1;\n";
      expect(await compile(wrong)).toMatch(/colour/);
    }, 120_000);
  });
});
