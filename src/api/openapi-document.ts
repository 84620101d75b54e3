/**
 * What the OpenAPI document says beyond each route's schema, decided in one place:
 *
 * - tags: one naming scheme (sentence case; a vendor profile's tag ends in " profile"),
 *   grouped with `x-tagGroups` — the native API first, then the vendor profiles;
 * - `operationId`: `<method><Path words><By<Param>>`, the vendor profiles prefixed with
 *   their name (`getIdentitiesById`, `postAssignmentsByIdPause`,
 *   `checkmarxGetCxrestapiAuthUsersById`); a route may set its own; unique or the app does
 *   not start;
 * - a description on every operation, ending with who may call it (from `config.auth`);
 * - examples: every JSON request body and success response carries an `example`, built
 *   from the schema (its own `examples`, `default`, `enum`, formats, then realistic values
 *   by field name), never the bare type name.
 */
import type { RouteOptions } from 'fastify';
import { PRODUCT_VERSION } from '../domain/product.ts';
import { routeAuthOf, type RouteAuth } from './route-auth.ts';

/** The product's version (shown by /docs and `info.version`). */
export { PRODUCT_VERSION };

interface TagInfo {
  name: string;
  description: string;
  /** The operationId prefix of a vendor profile; absent for the native API. */
  vendor?: string;
}

const NATIVE_TAGS: TagInfo[] = [
  { name: 'Access', description: 'Assignments, assignment rules, checks, effective access, explanations, drift and accounts of connected applications' },
  { name: 'Directory', description: 'Identities and organization units' },
  { name: 'Applications', description: 'Applications and their connectors' },
  { name: 'Permissions', description: 'The permissions of applications' },
  { name: 'Roles', description: 'Roles: bundles of permissions and other roles' },
  { name: 'Access requests', description: 'Requests for access, their approvals and provisioning' },
  { name: 'Approvals', description: "The caller's pending approval steps" },
  { name: 'Approval policies', description: 'Who approves what' },
  { name: 'Personnel events', description: 'Onboarding, offboarding, role transitions and leaves of absence' },
  { name: 'Access reviews', description: 'Certification campaigns: reviewers confirm or revoke what people hold, with reports for auditors' },
  { name: 'Separation of duties', description: 'Policies of permissions no one may hold together, and their violations' },
  { name: 'Imports', description: 'Account imports from connected applications: staging, review, approval' },
  { name: 'Audit', description: 'The audit trail and its checkpoints' },
  { name: 'Exports', description: 'Bulk exports as NDJSON, CSV or JSON' },
  { name: 'Event delivery', description: 'Sinks that receive the audit trail (SIEM)' },
  { name: 'Credentials', description: 'The caller, API keys, OAuth 2.0 clients and application keys' },
  { name: 'Sessions', description: 'Console sign-in: sessions from an API key, a local password or an OIDC provider' },
  { name: 'Settings', description: "The tenant's settings" },
  { name: 'OAuth 2.0', description: 'Token, introspection and revocation endpoints, and the discovery documents' },
  { name: 'SCIM 2.0', description: 'Provisioning from identity providers (RFC 7643/7644) at /scim/v2: Users are identities, Groups organization units (docs/scim.md)' },
  { name: 'Operations', description: 'Liveness and readiness probes' },
];

const VENDOR_TAGS: TagInfo[] = [
  { name: 'Checkmarx profile', vendor: 'checkmarx', description: 'Checkmarx access-control API compatibility (docs/compat-checkmarx.md)' },
  { name: 'CoreOne profile', vendor: 'coreOne', description: 'CoreOne external API compatibility' },
  { name: 'Celonis profile', vendor: 'celonis', description: 'Celonis member and permission API compatibility' },
  { name: 'Permission Assist profile', vendor: 'permissionAssist', description: 'Permission Assist API compatibility' },
];

const TAGS = new Map([...NATIVE_TAGS, ...VENDOR_TAGS].map((t) => [t.name, t]));

/** The document's `tags` (native first) and `x-tagGroups`. */
export const OPENAPI_TAGS = {
  tags: [...NATIVE_TAGS, ...VENDOR_TAGS].map(({ name, description }) => ({ name, description })),
  'x-tagGroups': [
    { name: 'Native API', tags: NATIVE_TAGS.map((t) => t.name) },
    { name: 'Vendor profiles', tags: VENDOR_TAGS.map((t) => t.name) },
  ],
};

const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const wordsOf = (segment: string) => segment.split(/[^A-Za-z0-9]+/).filter(Boolean).map(pascal).join('');

/** `GET /api/v1/identities/:id` → `getIdentitiesById`; a vendor's routes carry its prefix. */
export function operationIdOf(method: string, url: string, vendor?: string): string {
  const segments = url.replace(/^\/api\/v1(?=\/|$)/, '').split('/').filter(Boolean);
  if (vendor && segments[0] === 'api') segments.shift();
  const words = segments.map((s) => (s.startsWith(':') ? `By${pascal(s.slice(1))}` : wordsOf(s))).join('');
  const id = `${method.toLowerCase()}${words}`;
  return vendor ? `${vendor}${pascal(id)}` : id;
}

function accessSentence(auth: RouteAuth): string {
  switch (auth.kind) {
    case 'public':
      return 'No credential needed.';
    case 'client':
      return 'The OAuth 2.0 client authenticates itself (HTTP Basic, or client_id and client_secret in the form).';
    case 'authenticated':
      return 'Any authenticated caller; what is answered depends on the caller.';
    case 'session':
      return 'The console session cookie (`POST /api/v1/sessions`).';
    case 'rights':
      return auth.rights.length === 1 ? `Needs the right \`${auth.rights[0]}\`.` : `Needs one of the rights ${auth.rights.map((r) => `\`${r}\``).join(', ')}.`;
  }
}

type DocumentedSchema = { tags?: string[]; summary?: string; description?: string; operationId?: string; hide?: boolean };

/**
 * The app's `onRoute` step for the document: checks the tag, sets the operationId and the
 * description. `seen` holds the operationIds given so far (one set per app).
 */
export function describeOperation(route: RouteOptions, seen: Set<string>): void {
  const schema = (route.schema ?? {}) as DocumentedSchema;
  const auth = routeAuthOf(route.config);
  const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
  // Fastify adds a HEAD route beside each GET; the document shows the GET.
  if (schema.hide || !auth || !methods.length) return;
  const tag = schema.tags?.[0];
  const info = tag === undefined ? undefined : TAGS.get(tag);
  if (!info) throw new Error(`route ${methods.join(',')} ${route.url} has no known tag (src/api/openapi-document.ts lists them): ${String(tag)}`);
  if (methods.length !== 1) throw new Error(`route ${route.url} is documented with one method per route, not ${methods.join(',')}`);
  const operationId = schema.operationId ?? operationIdOf(methods[0]!, route.url, info.vendor);
  if (seen.has(operationId)) throw new Error(`operationId ${operationId} is used twice (${methods[0]} ${route.url})`);
  seen.add(operationId);
  const lead = schema.description ?? `${schema.summary ?? ''}${/[.?!]$/.test(schema.summary ?? '') ? '' : '.'}`;
  route.schema = { ...route.schema, operationId, description: `${lead}\n\n${accessSentence(auth)}` } as RouteOptions['schema'];
}

// ---------------------------------------------------------------------------------------
// Examples

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

const TIME = '2026-03-02T09:30:00.000Z';
const UUIDS = ['3f2b8c1e-7a4d-4e5f-9b6a-1c2d3e4f5a6b', '8d0e6a52-1f3b-4c7d-a9e8-5b4c3d2e1f0a', 'c7a1d2e3-4b5c-46d7-8e9f-0a1b2c3d4e5f'];

/** Realistic values for string fields without an example of their own, by field name. */
const STRING_BY_NAME: [RegExp, string][] = [
  [/^username$|^userName$|^login$/i, 'ada.lovelace'],
  [/email/i, 'ada@example.com'],
  [/^firstName$|^givenName$/i, 'Ada'],
  [/^lastName$|^familyName$|^surname$/i, 'Lovelace'],
  [/^displayName$|^fullName$/i, 'Ada Lovelace'],
  [/^subject$/, 'c1s:17173'],
  [/employeeNumber/i, 'E-1042'],
  [/accountName|^account$/i, 'alovelace'],
  [/applicationName|^application$/i, 'Payroll'],
  [/permissionName|^permission$/i, 'payroll.approve'],
  [/roleName|^role$/i, 'Finance approver'],
  [/unitPath|^path$/i, 'Acme/Finance/Payroll'],
  [/unitName|orgUnitName/i, 'Payroll'],
  [/etag/i, '"7"'],
  [/cursor/i, 'eyJrIjoiM2YyYjhjMWUifQ'],
  [/(^|[a-z])Id$|^id$|Ids?$/, UUIDS[0]!],
  [/At$|^since$|^until$|^from$|^to$|date|time/i, TIME],
  [/reason|justification|comment|note|message|description|detail/i, 'Needs to approve payroll runs for the Finance team'],
  [/^scope$|scopes/i, 'grantory:*'],
  [/secret|password|token|key$/i, 'gk_live_2f9c8e1a7b6d4c3e'],
  [/url|uri|href|endpoint/i, 'https://grantory.example.com/hooks/siem'],
  [/^code$/, 'not_found'],
  [/^title$/, 'The object does not exist'],
  [/^type$|kind/i, 'employee'],
  [/status|state/i, 'active'],
  [/name$/i, 'Payroll'],
  [/value/i, 'Finance'],
];

const FORMATS: Record<string, string> = {
  'date-time': TIME,
  date: TIME.slice(0, 10),
  email: 'ada@example.com',
  uuid: UUIDS[1]!,
  uri: 'https://grantory.example.com/',
  'uri-reference': '/api/v1/identities',
  hostname: 'grantory.example.com',
  ipv4: '192.0.2.10',
};

function stringExample(schema: Schema, name: string): string {
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format) return format;
  const byName = STRING_BY_NAME.find(([re]) => re.test(name))?.[1];
  const value = byName ?? (name ? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'Payroll');
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) return name || 'example';
  return value.length < min ? value.padEnd(min, 'x') : value.slice(0, max);
}

function numberExample(schema: Schema, name: string): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  let value = /revision/i.test(name) ? 42 : /limit|size/i.test(name) ? 50 : /count|total/i.test(name) ? 3 : /status/i.test(name) ? 404 : /seconds|days|hours/i.test(name) ? 30 : 1;
  if (min !== undefined && value < min) value = min;
  if (max !== undefined && value > max) value = max;
  return value;
}

/**
 * An example value of `schema` (`resolve` follows `$ref`s). Prefers what the schema says
 * (`examples`, `example`, `const`, `default`, `enum`), then builds from its shape.
 */
export function exampleOf(schema: unknown, resolve: (ref: string) => unknown, name = '', depth = 0): Json {
  if (!schema || typeof schema !== 'object' || depth > 12) return null;
  const s = schema as Schema;
  if (typeof s.$ref === 'string') return exampleOf(resolve(s.$ref), resolve, name, depth + 1);
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0] as Json;
  if ('example' in s) return s.example as Json;
  if ('const' in s) return s.const as Json;
  if ('default' in s && s.default !== undefined) return s.default as Json;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0] as Json;
  const choices = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(choices)) {
    const chosen = choices.find((c) => (c as Schema).type !== 'null') ?? choices[0];
    return exampleOf(chosen, resolve, name, depth + 1);
  }
  if (Array.isArray(s.allOf)) {
    const parts = s.allOf.map((part) => exampleOf(part, resolve, name, depth + 1));
    return parts.every((p) => p && typeof p === 'object' && !Array.isArray(p)) ? Object.assign({}, ...(parts as object[])) : (parts[0] ?? null);
  }
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);
  if (type === 'object' || (!type && s.properties)) {
    const out: Record<string, Json> = {};
    for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) out[key] = exampleOf(child, resolve, key, depth + 1);
    return out;
  }
  if (type === 'array') {
    const item = exampleOf(s.items, resolve, name.replace(/s$/, ''), depth + 1);
    const min = typeof s.minItems === 'number' ? s.minItems : 1;
    return Array.from({ length: Math.max(1, Math.min(min, 3)) }, () => item);
  }
  if (type === 'string') return stringExample(s, name);
  if (type === 'integer' || type === 'number') return numberExample(s, name);
  if (type === 'boolean') return !/^(disabled|deleted|paused|revoked)$/i.test(name);
  return null;
}

type MediaTypes = Record<string, { schema?: unknown; example?: unknown; examples?: unknown }>;
type OpenApiDocument = {
  paths?: Record<string, Record<string, { requestBody?: { content?: MediaTypes }; responses?: Record<string, { content?: MediaTypes }> }>>;
  components?: { schemas?: Record<string, unknown> };
  [key: string]: unknown;
};

const JSONISH = /json/;

function addExamples(content: MediaTypes | undefined, resolve: (ref: string) => unknown): void {
  for (const [mediaType, media] of Object.entries(content ?? {})) {
    if (!JSONISH.test(mediaType) || !media.schema || media.example !== undefined || media.examples !== undefined) continue;
    media.example = exampleOf(media.schema, resolve);
  }
}

/** `transformObject` of the document: examples on JSON request bodies and success responses, tags, the product version. */
export function finishDocument(doc: OpenApiDocument): OpenApiDocument {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (ref: string) => schemas[ref.replace(/^#\/components\/schemas\//, '')];
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      addExamples(operation.requestBody?.content, resolve);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (/^2/.test(status)) addExamples(response?.content, resolve);
      }
    }
  }
  return { ...doc, ...OPENAPI_TAGS };
}
