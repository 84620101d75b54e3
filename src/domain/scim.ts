/**
 * SCIM 2.0 (RFC 7643 schemas, RFC 7644 protocol): the names and the discovery documents
 * Grantory's `/scim/v2` serves. Pure data; the mapping onto identities and organization
 * units is in `src/services/scim`, the routes in `src/api/routes/scim`.
 *
 * ```ts
 * scimError('invalidFilter') // details for an AppError: { scimType: 'invalidFilter' }
 * ```
 */

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export const SCHEMA_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCHEMA_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCHEMA_ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCHEMA_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCHEMA_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCHEMA_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCHEMA_SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const SCHEMA_SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const SCHEMA_RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** The `scimType` values of RFC 7644 §3.12 Grantory answers with. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'sensitive';

/** `details` of an AppError that carries a `scimType` (the SCIM error body shows it). */
export const scimError = (scimType: ScimType): { scimType: ScimType } => ({ scimType });

/** Page size when `count` is absent, and the most one page holds (`filter.maxResults`). */
export const SCIM_DEFAULT_COUNT = 100;
export const SCIM_MAX_COUNT = 1000;
/** The most operations one PATCH may carry. */
export const SCIM_MAX_OPERATIONS = 1000;

/** `GET /scim/v2/ServiceProviderConfig` (RFC 7643 §5). */
export function serviceProviderConfig(base: string, maxPayloadSize: number) {
  return {
    schemas: [SCHEMA_SERVICE_PROVIDER_CONFIG],
    documentationUri: 'https://github.com/grantory/grantory/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize },
    filter: { supported: true, maxResults: SCIM_MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A Grantory API key or OAuth 2.0 access token with the scim scope, sent as Authorization: Bearer <token>',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        documentationUri: 'https://github.com/grantory/grantory/blob/main/docs/scim.md',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** `GET /scim/v2/ResourceTypes` (RFC 7643 §6). */
export function resourceTypes(base: string) {
  return [
    {
      schemas: [SCHEMA_RESOURCE_TYPE],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'Grantory identities',
      schema: SCHEMA_USER,
      schemaExtensions: [{ schema: SCHEMA_ENTERPRISE_USER, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCHEMA_RESOURCE_TYPE],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Grantory organization units; members are the identities whose unit it is',
      schema: SCHEMA_GROUP,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

type AttributeDefinition = {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttributeDefinition[];
  referenceTypes?: string[];
  canonicalValues?: string[];
};

function attribute(name: string, description: string, options: Partial<AttributeDefinition> = {}): AttributeDefinition {
  return { name, type: 'string', multiValued: false, description, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...options };
}

const USER_ATTRIBUTES: AttributeDefinition[] = [
  attribute('userName', "The identity's username; unique in the tenant, compared without case and look-alike characters", { required: true, uniqueness: 'server' }),
  attribute('name', "The person's name", {
    type: 'complex',
    subAttributes: [
      attribute('formatted', 'Given and family name (read-only)', { mutability: 'readOnly' }),
      attribute('givenName', 'The first name'),
      attribute('familyName', 'The last name'),
    ],
  }),
  attribute('displayName', 'The name shown for the identity'),
  attribute('title', "The identity's title (attribute title)"),
  attribute('active', 'Whether the identity is active; false ends its access (status terminated)', { type: 'boolean' }),
  attribute('emails', 'The e-mail address (Grantory keeps one, shown as type work and primary)', {
    multiValued: true,
    type: 'complex',
    subAttributes: [
      attribute('value', 'The address'),
      attribute('type', 'work', { canonicalValues: ['work'] }),
      attribute('primary', 'Always true', { type: 'boolean' }),
    ],
  }),
  attribute('groups', 'The organization unit the identity belongs to (read-only; change it through the Group)', {
    multiValued: true,
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [attribute('value', 'The unit id', { mutability: 'readOnly' }), attribute('display', 'The unit name', { mutability: 'readOnly' })],
  }),
];

const ENTERPRISE_ATTRIBUTES: AttributeDefinition[] = [
  attribute('employeeNumber', "The identity's employee number; unique in the tenant", { uniqueness: 'server' }),
  attribute('department', 'The department (attribute department)'),
  attribute('manager', "The identity's manager", {
    type: 'complex',
    subAttributes: [attribute('value', "The manager's id (a User id)"), attribute('displayName', "The manager's name", { mutability: 'readOnly' })],
  }),
];

const GROUP_ATTRIBUTES: AttributeDefinition[] = [
  attribute('displayName', "The unit's name (no \"/\"); unique among its siblings", { required: true }),
  attribute('members', 'The identities whose organization unit this is', {
    multiValued: true,
    type: 'complex',
    subAttributes: [
      attribute('value', 'A User id', { mutability: 'immutable' }),
      attribute('display', "The member's name", { mutability: 'readOnly' }),
      attribute('$ref', 'The User URI', { type: 'reference', referenceTypes: ['User'], mutability: 'readOnly' }),
    ],
  }),
];

/** `GET /scim/v2/Schemas` (RFC 7643 §7): the attributes Grantory keeps. */
export function schemaDefinitions(base: string) {
  const schema = (id: string, name: string, description: string, attributes: AttributeDefinition[]) => ({
    schemas: [SCHEMA_SCHEMA],
    id,
    name,
    description,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  });
  return [
    schema(SCHEMA_USER, 'User', 'Grantory identity', USER_ATTRIBUTES),
    schema(SCHEMA_ENTERPRISE_USER, 'EnterpriseUser', 'Enterprise attributes of an identity', ENTERPRISE_ATTRIBUTES),
    schema(SCHEMA_GROUP, 'Group', 'Grantory organization unit', GROUP_ATTRIBUTES),
  ];
}

/** Entra sends booleans as strings ("True", "False"): the boolean they mean, or the value unchanged. */
export function scimBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lowered = value.trim().toLowerCase();
  return lowered === 'true' ? true : lowered === 'false' ? false : value;
}

/** Attributes returned whatever `attributes` / `excludedAttributes` say (RFC 7643 §7 `returned: always`). */
const ALWAYS_RETURNED = new Set(['id', 'schemas', 'meta']);

/** `urn:…:User:name.givenName` → `name`: the top-level key (schema extensions keep their URN key). */
function topLevelKey(path: string, resource: Record<string, unknown>): string {
  const lowered = path.toLowerCase();
  const urnKey = Object.keys(resource).find((k) => k.startsWith('urn:') && (lowered === k.toLowerCase() || lowered.startsWith(`${k.toLowerCase()}:`)));
  if (urnKey) return urnKey;
  const core = [SCHEMA_USER, SCHEMA_GROUP].find((urn) => path.toLowerCase().startsWith(`${urn.toLowerCase()}:`));
  const bare = core ? path.slice(core.length + 1) : path;
  return bare.split('.')[0]!.toLowerCase();
}

/**
 * `resource` with only the requested top-level attributes (`attributes=userName,emails`), or
 * without the excluded ones (`excludedAttributes=members`); RFC 7644 §3.4.2.5. Names compare
 * without case; a sub-attribute keeps its parent whole.
 */
export function projectAttributes<T extends Record<string, unknown>>(resource: T, attributes?: string, excludedAttributes?: string): Partial<T> {
  const list = (text: string | undefined) => (text ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  const wanted = list(attributes);
  const excluded = list(excludedAttributes);
  if (!wanted.length && !excluded.length) return resource;
  const keep = new Set(wanted.map((a) => topLevelKey(a, resource)));
  const drop = new Set(excluded.map((a) => topLevelKey(a, resource)));
  return Object.fromEntries(
    Object.entries(resource).filter(([key]) => {
      const k = key.startsWith('urn:') ? key : key.toLowerCase();
      if (ALWAYS_RETURNED.has(key)) return true;
      return wanted.length ? keep.has(k) : !drop.has(k);
    }),
  ) as Partial<T>;
}

/** Whether a projection leaves out `attribute` (so it need not be read: a Group's members). */
export function attributeLeftOut(attribute: string, attributes?: string, excludedAttributes?: string): boolean {
  const list = (text: string | undefined) => (text ?? '').split(',').map((a) => topLevelKey(a.trim(), {})).filter(Boolean);
  const wanted = list(attributes);
  if (wanted.length) return !wanted.includes(attribute.toLowerCase());
  return list(excludedAttributes).includes(attribute.toLowerCase());
}
