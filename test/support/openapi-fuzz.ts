/**
 * The pieces of the OpenAPI-driven fuzzer (test/security/fuzz.test.ts): the operations of
 * the document with their parameter, body and response schemas; requests drawn from them
 * with fast-check (valid, or broken in one place); and the check of an answer against what
 * the operation declares (its status, content type and body schema, compiled with Ajv).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { brokenOf, NASTY_STRINGS, validOf, type Hints, type Schema } from './schema-arbitraries.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

type Doc = { paths: Record<string, Record<string, OperationObject>>; components?: { schemas?: Record<string, Schema> } };
interface ParameterObject { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema }
interface MediaObject { schema?: Schema }
interface OperationObject {
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content: Record<string, MediaObject> };
  responses?: Record<string, { content?: Record<string, MediaObject> }>;
}

export interface Operation {
  method: string;
  path: string;
  /** For each path parameter, the collection it names (the segment before it). */
  pathParams: { name: string; collection: string; schema: Schema }[];
  query: Schema;
  headers: Schema;
  body: { mediaTypes: string[]; schema: Schema; required: boolean } | null;
  responses: Record<string, Record<string, Schema | null> | null>;
}

/** Replaces `#/components/schemas/X` references by the schemas themselves. */
function inline(value: unknown, components: Record<string, Schema>): unknown {
  if (Array.isArray(value)) return value.map((v) => inline(v, components));
  if (!value || typeof value !== 'object') return value;
  const ref = (value as { $ref?: string }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) return inline(components[ref.slice(21)], components);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v, components)]));
}

const objectOfParams = (params: ParameterObject[]): Schema => ({
  type: 'object',
  properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
  required: params.filter((p) => p.required).map((p) => p.name),
});

/** Every operation of the document, in document order. */
export function operationsOf(document: unknown): Operation[] {
  const doc = inline(document, (document as Doc).components?.schemas ?? {}) as Doc;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      const segments = path.split('/');
      const pathParams = params
        .filter((p) => p.in === 'path')
        .map((p) => ({ name: p.name, schema: p.schema, collection: segments[segments.indexOf(`{${p.name}}`) - 1] ?? '' }));
      const content = op.requestBody?.content ?? {};
      const mediaTypes = Object.keys(content);
      const bodySchema = content['application/json']?.schema ?? Object.values(content)[0]?.schema;
      const responses: Operation['responses'] = {};
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        responses[status] = response.content ? Object.fromEntries(Object.entries(response.content).map(([type, media]) => [type, media.schema ?? null])) : null;
      }
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams,
        query: objectOfParams(params.filter((p) => p.in === 'query')),
        headers: objectOfParams(params.filter((p) => p.in === 'header')),
        body: op.requestBody ? { mediaTypes, schema: bodySchema ?? {}, required: op.requestBody.required ?? false } : null,
        responses,
      });
    }
  }
  return ops;
}

/** Ids and numbers of objects that exist, by collection (the path segment that lists them). */
export class Pools {
  readonly items = new Map<string, Record<string, unknown>[]>();

  add(collection: string, item: unknown): void {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return;
    const list = this.items.get(collection) ?? [];
    const record = item as Record<string, unknown>;
    if (record.id !== undefined && list.some((i) => i.id === record.id)) return;
    list.push(record);
    if (list.length > 50) list.shift();
    this.items.set(collection, list);
  }

  /** A list answer (an array, or `items`) feeds the pool of its last segment. */
  learn(path: string, body: unknown): void {
    const collection = path.split('/').filter((s) => s && !s.includes('?')).pop() ?? '';
    const items = Array.isArray(body) ? body : Array.isArray((body as { items?: unknown })?.items) ? (body as { items: unknown[] }).items : [body];
    for (const item of items.slice(0, 50)) this.add(collection, item);
  }

  valuesFor(collection: string, field: string): unknown[] {
    return (this.items.get(collection) ?? []).map((i) => i[field] ?? i.id ?? i.number).filter((v) => v !== undefined && v !== null);
  }
}

/** Body fields that name objects, and the collection whose ids they take. */
const FIELD_COLLECTIONS: Record<string, string> = {
  identityId: 'identities', managerId: 'identities', assigneeId: 'identities', userId: 'Users',
  orgUnitId: 'org-units', parentId: 'org-units', applicationId: 'applications', permissionId: 'permissions',
  roleId: 'roles', resourceId: 'roles', teamId: 'Teams', ruleId: 'assignment-rules', importId: 'imports',
};

export function hintsOf(pools: Pools): Hints {
  return (field) => {
    if (field === 'grant_type') return fc.constant('client_credentials');
    const collection = FIELD_COLLECTIONS[field] ?? FIELD_COLLECTIONS[field.replace(/s$/, '')];
    const values = collection ? pools.valuesFor(collection, 'id') : [];
    if (!values.length) return null;
    return field.endsWith('Ids') ? fc.subarray(values, { maxLength: 3 }) : fc.constantFrom(...values);
  };
}

export type Who = 'admin' | 'low' | 'none' | 'garbage';
export type Mode = 'valid' | 'path' | 'query' | 'headers' | 'body' | 'raw';

export interface FuzzRequest {
  who: Who;
  mode: Mode;
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  raw: { contentType: string; payload: string | Buffer } | null;
}

const BROKEN_IDS = ['nope', '0', '-1', '99999999999999999999', 'x'.repeat(65), '%00', '%E2%80%AE', '%FF%FE', '..%2F..', 'ü', '1e9', ' '];
const RAW_BODIES: FuzzRequest['raw'][] = [
  { contentType: 'application/json', payload: '{"name": ' },
  { contentType: 'application/json', payload: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  { contentType: 'application/json', payload: '"\\u0000"' },
  { contentType: 'application/json', payload: '[]' },
  { contentType: 'application/json', payload: 'null' },
  { contentType: 'text/plain', payload: 'hello' },
  { contentType: 'application/xml', payload: '<a/>' },
  { contentType: 'application/json', payload: `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}` },
  { contentType: 'application/json', payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) },
];

/**
 * Requests for `op`: valid, or broken in one place, by one of the callers; with `fixed`,
 * by that caller in that mode (a valid administrator's request reaches the handler).
 */
export function requestsOf(op: Operation, pools: Pools, foreignIds: string[], fixed?: { who: Who; mode: Mode }): fc.Arbitrary<FuzzRequest> {
  const hints = hintsOf(pools);
  const validPath = fc.record(
    Object.fromEntries(op.pathParams.map((p) => {
      const known = pools.valuesFor(p.collection, p.name);
      // `.` and `..` are dot-segments, not values: URL resolution removes them (RFC 3986
      // §5.2.4, also when sent as %2E), so such a request names another route.
      const drawn = validOf(p.schema, hints).filter((v) => v !== '.' && v !== '..');
      return [p.name, known.length ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 4 }, { arbitrary: drawn, weight: 1 }) : drawn];
    })),
  );
  const brokenPath = fc.record(Object.fromEntries(op.pathParams.map((p) => [p.name, fc.constantFrom(...BROKEN_IDS, ...foreignIds, ...NASTY_STRINGS.map((n) => encodeLoose(n)))])));
  const body = op.body?.schema ?? {};
  const valid = { path: validPath, query: validOf(op.query, hints), headers: validOf(op.headers, hints), body: op.body ? validOf(body, hints) : fc.constant(undefined) };
  const modes: Mode[] = ['valid', 'valid', 'valid', 'query', 'body', 'raw'];
  if (op.pathParams.length) modes.push('path');
  if (Object.keys(op.headers.properties ?? {}).length) modes.push('headers');
  const caller = fixed ? fc.constant(fixed) : fc.record({ who: fc.constantFrom<Who>('admin', 'admin', 'low', 'low', 'none', 'garbage'), mode: fc.constantFrom(...modes) });
  return caller.chain(({ who, mode }) =>
    fc.record({
      who: fc.constant(who),
      mode: fc.constant(mode),
      path: mode === 'path' ? brokenPath : valid.path,
      query: mode === 'query' ? brokenOf(op.query, hints) : valid.query,
      headers: mode === 'headers' ? brokenOf(op.headers, hints) : valid.headers,
      body: mode === 'body' ? brokenOf(body, hints) : valid.body,
      raw: mode === 'raw' ? fc.constantFrom(...RAW_BODIES) : fc.constant(null),
    }),
  ) as fc.Arbitrary<FuzzRequest>;
}

/** encodeURIComponent that sends a lone surrogate as the (invalid) UTF-8 bytes of one. */
export const encodeLoose = (s: string): string =>
  s.replace(/[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]|[^\ud800-\udfff]+/g, (part) => (part.length === 1 && /[\ud800-\udfff]/.test(part) ? '%ED%A0%80' : encodeURIComponent(part)));

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? '');

/** The URL of a request: path parameters (already encoded when broken) and the query string. */
export function urlOf(op: Operation, request: FuzzRequest): string {
  let url = op.path;
  for (const p of op.pathParams) {
    const value = text(request.path[p.name]);
    url = url.replace(`{${p.name}}`, request.mode === 'path' ? value : encodeLoose(value));
  }
  const query = request.query && typeof request.query === 'object' && !Array.isArray(request.query) ? request.query : { q: request.query };
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) search.append(k, text(v));
  const qs = search.toString();
  return qs ? `${url}?${qs}` : url;
}

/** The header values of a request (objects and numbers as text). */
export function headersOf(request: FuzzRequest): Record<string, string> {
  const headers = request.headers && typeof request.headers === 'object' && !Array.isArray(request.headers) ? request.headers : {};
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, text(v).replace(/[\r\n]/g, ' ').split(String.fromCharCode(0)).join(' ')]));
}

/** What is wrong with an answer, by the operation's declared responses (null: nothing). */
export class ResponseChecker {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<Schema, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.ajv);
  }

  check(op: Operation, status: number, contentType: string | undefined, body: string): string | null {
    const key = [String(status), `${String(status)[0]}XX`].find((k) => k in op.responses);
    const declared = key === undefined ? undefined : op.responses[key];
    if (declared === undefined) return `status ${status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`;
    if (declared === null || status === 204) return body === '' ? null : `status ${status} declares no body, got ${body.slice(0, 80)}`;
    const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(media in declared)) return `content type ${media || '(none)'} is not declared for ${status} (declared: ${Object.keys(declared).join(', ')})`;
    const schema = declared[media];
    if (!schema) return null;
    let value: unknown = body;
    if (media === 'application/json' || media.endsWith('+json')) {
      try {
        value = JSON.parse(body);
      } catch {
        return `${status} ${media} body is not JSON: ${body.slice(0, 80)}`;
      }
    }
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    if (validate(value)) return null;
    const first = validate.errors?.[0];
    return `${status} body does not match its schema: ${first?.instancePath || '(root)'} ${first?.message ?? ''} — ${body.slice(0, 160)}`;
  }
}
