/**
 * SCIM Users: identities, as RFC 7643 §4.1 and its enterprise extension show them.
 *
 * | SCIM | identity |
 * | --- | --- |
 * | `id` | `id` |
 * | `externalId` | `subject` (absent while the subject is the generated `grantory:<number>`) |
 * | `userName` | `username` |
 * | `name.givenName`, `name.familyName` | `firstName`, `lastName` |
 * | `displayName` | `displayName` |
 * | `emails` | `email` (one address, shown as `type: work`, `primary: true`) |
 * | `active` | `status` is `active`; `false` makes it `terminated` (an identity on leave stays on leave) |
 * | `title`, enterprise `department` | the attributes `title`, `department` |
 * | enterprise `employeeNumber` | `employeeNumber` |
 * | enterprise `manager.value` | `managerId` |
 * | `groups` (read-only) | the identity's organization unit |
 *
 * Writes go through the directory's use cases (`createIdentity`, `updateIdentity`,
 * `deleteIdentity`): the same checks, audit events, assignment rules and access index as
 * the native API.
 */
import { sql } from 'kysely';
import { etagOf } from '../../domain/etag.ts';
import { identifierSkeleton } from '../../domain/identifiers.ts';
import { SCHEMA_ENTERPRISE_USER, SCHEMA_USER, scimBoolean } from '../../domain/scim.ts';
import type { TenantDb } from '../../store/store.ts';
import { createIdentity, deleteIdentity, getIdentity, toIdentityView, updateIdentity, type IdentityFields, type IdentityView } from '../directory/index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { compileFilter, sortTerm, type AttributeMap } from './filter.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import { invalidValue, meta, pageWithTotal, readModifyWrite, text, type ListQuery, type ListResult, type ScimResource } from './resources.ts';

/** Subjects Grantory generated (`grantory:<number>`): no externalId. */
const GENERATED_SUBJECT = /^grantory:\d+$/;

const col = (name: string) => sql.ref(`identities.${name}`);

const EMAIL_VALUES: AttributeMap = {
  value: { kind: 'text', column: col('email') },
  type: { kind: 'text', column: sql`'work'` },
  primary: { kind: 'boolean', condition: sql<boolean>`(1 = 1)` },
  display: { kind: 'text', column: col('email') },
};

function userAttributes(jsonText: (key: string) => ReturnType<typeof sql>): AttributeMap {
  return {
    id: { kind: 'text', column: col('id'), caseExact: true },
    externalid: { kind: 'text', column: col('subject'), caseExact: true },
    username: { kind: 'text', column: col('username'), narrow: (value) => sql<boolean>`(${col('username_skeleton')} = ${identifierSkeleton(value.normalize('NFC'))})` },
    displayname: { kind: 'text', column: col('display_name') },
    'name.givenname': { kind: 'text', column: col('first_name') },
    'name.familyname': { kind: 'text', column: col('last_name') },
    active: { kind: 'boolean', condition: sql<boolean>`(${col('status')} = 'active')` },
    emails: { kind: 'multi', value: 'value', attributes: EMAIL_VALUES, has: (inner) => sql<boolean>`(${col('email')} is not null and ${inner})`, primary: col('email') },
    title: { kind: 'text', column: jsonText('title') },
    employeenumber: { kind: 'text', column: col('employee_number'), caseExact: true },
    department: { kind: 'text', column: jsonText('department') },
    'manager.value': { kind: 'text', column: col('manager_id'), caseExact: true },
    'groups.value': { kind: 'text', column: col('org_unit_id'), caseExact: true },
    'meta.created': { kind: 'time', column: col('created_at') },
    'meta.lastmodified': { kind: 'time', column: col('updated_at') },
  };
}

/** The JSON text of one attribute, on either database (attributes are canonical JSON text). */
function jsonTextOf(dialect: 'sqlite' | 'postgres') {
  return (key: string) => (dialect === 'sqlite' ? sql`json_extract(${col('attributes')}, ${`$."${key}"`})` : sql`(${col('attributes')}::jsonb ->> ${key})`);
}

export interface ScimUser extends ScimResource {
  userName: string | null;
  [key: string]: unknown;
}

interface Related {
  units: Map<string, string>;
  managers: Map<string, string>;
}

function nameOf(view: Pick<IdentityView, 'displayName' | 'firstName' | 'lastName' | 'username' | 'subject'>): string {
  return view.displayName ?? ([view.firstName, view.lastName].filter(Boolean).join(' ') || view.username || view.subject);
}

/** The SCIM User of an identity (unassigned attributes left out, as RFC 7643 §2.5 says). */
export function toScimUser(identity: IdentityView, version: number, related: Related, base: string): ScimUser {
  const formatted = [identity.firstName, identity.lastName].filter(Boolean).join(' ');
  const name = {
    ...(formatted ? { formatted } : {}),
    ...(identity.firstName !== null ? { givenName: identity.firstName } : {}),
    ...(identity.lastName !== null ? { familyName: identity.lastName } : {}),
  };
  const unitName = identity.orgUnitId === null ? undefined : related.units.get(identity.orgUnitId);
  const managerName = identity.managerId === null ? undefined : related.managers.get(identity.managerId);
  const enterprise = {
    ...(identity.employeeNumber !== null ? { employeeNumber: identity.employeeNumber } : {}),
    ...(identity.attributes.department !== undefined ? { department: identity.attributes.department } : {}),
    ...(identity.managerId !== null ? { manager: { value: identity.managerId, $ref: `${base}/Users/${identity.managerId}`, ...(managerName ? { displayName: managerName } : {}) } } : {}),
  };
  return {
    schemas: Object.keys(enterprise).length ? [SCHEMA_USER, SCHEMA_ENTERPRISE_USER] : [SCHEMA_USER],
    id: identity.id,
    ...(GENERATED_SUBJECT.test(identity.subject) ? {} : { externalId: identity.subject }),
    userName: identity.username,
    ...(Object.keys(name).length ? { name } : {}),
    ...(identity.displayName !== null ? { displayName: identity.displayName } : {}),
    ...(identity.attributes.title !== undefined ? { title: identity.attributes.title } : {}),
    active: identity.status === 'active',
    ...(identity.email !== null ? { emails: [{ value: identity.email, type: 'work', primary: true }] } : {}),
    ...(identity.orgUnitId !== null ? { groups: [{ value: identity.orgUnitId, $ref: `${base}/Groups/${identity.orgUnitId}`, ...(unitName ? { display: unitName } : {}) }] } : {}),
    ...(Object.keys(enterprise).length ? { [SCHEMA_ENTERPRISE_USER]: enterprise } : {}),
    meta: meta('User', `${base}/Users/${identity.id}`, identity.createdAt, identity.updatedAt, version),
  };
}

async function relatedOf(scope: TenantDb, identities: readonly IdentityView[]): Promise<Related> {
  const unitIds = [...new Set(identities.map((i) => i.orgUnitId).filter((u): u is string => u !== null))];
  const managerIds = [...new Set(identities.map((i) => i.managerId).filter((m): m is string => m !== null))];
  const units = unitIds.length ? await scope.db.selectFrom('org_units').select(['id', 'name']).where('tenant_id', '=', scope.tenantId).where('id', 'in', unitIds).execute() : [];
  const managers = managerIds.length
    ? await scope.db.selectFrom('identities').selectAll().where('tenant_id', '=', scope.tenantId).where('id', 'in', managerIds).execute()
    : [];
  return { units: new Map(units.map((u) => [u.id, u.name])), managers: new Map(managers.map((m) => [m.id, nameOf(toIdentityView(m))])) };
}

/**
 * The queries of a `GET /Users`: `page` the identities `filter` selects, by `sortBy` then
 * number, `count` the number of them.
 */
export function scimUserQueries(deps: ServiceDeps, tenantId: string, query: Pick<ListQuery, 'filter' | 'sortBy' | 'sortOrder'>) {
  const scope = deps.store.read(tenantId);
  const attributes = userAttributes(jsonTextOf(deps.store.dialect));
  const { where, narrowed } = query.filter ? compileFilter(query.filter, attributes) : { where: sql<boolean>`(1 = 1)`, narrowed: false };
  const selected = scope.db.selectFrom('identities').where('tenant_id', '=', scope.tenantId).where(where);
  const sorted = query.sortBy ? selected.orderBy(sortTerm(query.sortBy, query.sortOrder ?? 'ascending', attributes)) : selected;
  // A narrowed filter sorts its few rows (`number + 0` is no index order): see compileFilter.
  const byNumber = narrowed ? sql`${col('number')} + 0` : col('number');
  return {
    page: (limit: number, offset: number) => sorted.selectAll().orderBy(byNumber).limit(limit).offset(offset),
    count: () => selected.select((eb) => eb.fn.countAll<number | string>().as('total')),
  };
}

/** `GET /Users`: the identities `filter` selects, `count` of them from `startIndex` (1-based), by `sortBy` then number. */
export async function listScimUsers(deps: ServiceDeps, actor: Actor, query: ListQuery, base: string): Promise<ListResult<ScimUser>> {
  requireRight(actor, 'manage-users');
  const queries = scimUserQueries(deps, actor.caller.tenantId, query);
  const { total, rows } = await pageWithTotal(
    query,
    (limit, offset) => queries.page(limit, offset).execute(),
    async () => Number((await queries.count().executeTakeFirstOrThrow()).total),
  );
  const views = rows.map(toIdentityView);
  const related = await relatedOf(deps.store.read(actor.caller.tenantId), views);
  return { total, resources: views.map((v, i) => toScimUser(v, rows[i]!.version, related, base)) };
}

export async function getScimUser(deps: ServiceDeps, actor: Actor, id: string, base: string): Promise<ScimUser> {
  const { identity, version } = await getIdentity(deps, actor, id);
  return toScimUser(identity, version, await relatedOf(deps.store.read(actor.caller.tenantId), [identity]), base);
}

/** A User body as an identity's fields; `current` keeps what SCIM does not know (other attributes). */
function identityFieldsOf(body: Record<string, unknown>, current: IdentityView | null): IdentityFields & { subject?: string } {
  const userName = text(body.userName, 'userName', 200);
  if (!userName) throw invalidValue('userName', 'is required');
  const name = object(body.name, 'name');
  const enterprise = object(body[SCHEMA_ENTERPRISE_USER], SCHEMA_ENTERPRISE_USER);
  const attributes = { ...(current?.attributes ?? {}) };
  const setAttribute = (key: string, value: string | null) => {
    if (value === null || value === '') delete attributes[key];
    else attributes[key] = value;
  };
  setAttribute('title', text(body.title, 'title', 500));
  setAttribute('department', text(enterprise.department, 'department', 500));
  const active = scimBoolean(body.active);
  if (active !== undefined && typeof active !== 'boolean') throw invalidValue('active', 'must be true or false');
  let status: IdentityFields['status'];
  if (active === true || (active === undefined && !current)) status = 'active';
  // Inactive: an identity already not active keeps its status (on leave stays on leave).
  else if (active === false) status = current && current.status !== 'active' ? (current.status as IdentityFields['status']) : 'terminated';
  const externalId = text(body.externalId, 'externalId', 200);
  return {
    username: userName,
    firstName: text(name.givenName, 'name.givenName', 200),
    lastName: text(name.familyName, 'name.familyName', 200),
    displayName: text(body.displayName, 'displayName', 200),
    email: emailOf(body.emails),
    employeeNumber: text(enterprise.employeeNumber, 'employeeNumber', 100),
    managerId: managerOf(enterprise.manager),
    ...(status ? { status } : {}),
    // The subject stays when the body has no externalId (it cannot go back to a generated one).
    ...(externalId ? { subject: externalId } : {}),
    attributes,
  };
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidValue(field, 'must be an object');
  return value as Record<string, unknown>;
}

/** The primary address, else the work one, else the first. */
function emailOf(emails: unknown): string | null {
  if (emails === undefined || emails === null) return null;
  if (!Array.isArray(emails)) throw invalidValue('emails', 'must be a list');
  const values = emails.map((e, i) => object(e, `emails[${i}]`));
  const chosen = values.find((e) => scimBoolean(e.primary) === true) ?? values.find((e) => e.type === 'work') ?? values[0];
  return chosen ? text(chosen.value, 'emails.value', 320) : null;
}

/** Entra sends the manager as the id itself (or `[{value}]`), Okta and the RFC as `{value}`. */
function managerOf(manager: unknown): string | null {
  if (manager === undefined || manager === null || manager === '') return null;
  if (typeof manager === 'string') return text(manager, 'manager', 64);
  if (Array.isArray(manager)) return manager.length ? managerOf(manager[0]) : null;
  return text(object(manager, 'manager').value, 'manager.value', 64);
}

async function userOf(deps: ServiceDeps, actor: Actor, identity: IdentityView, version: number, base: string): Promise<ScimUser> {
  return toScimUser(identity, version, await relatedOf(deps.store.read(actor.caller.tenantId), [identity]), base);
}

/** `POST /Users`. A userName taken is a 409 `uniqueness`. */
export async function createScimUser(deps: ServiceDeps, actor: Actor, body: Record<string, unknown>, base: string): Promise<ScimUser> {
  const created = await createIdentity(deps, actor, identityFieldsOf(body, null));
  return userOf(deps, actor, created.identity, created.version, base);
}

/** `PUT /Users/{id}`: the body replaces every attribute SCIM knows. */
export async function replaceScimUser(deps: ServiceDeps, actor: Actor, id: string, body: Record<string, unknown>, ifMatch: string | undefined, base: string): Promise<ScimUser> {
  const updated = await readModifyWrite(ifMatch, async (expected) => {
    const { identity, version } = await getIdentity(deps, actor, id);
    return updateIdentity(deps, actor, id, identityFieldsOf(body, identity), expected ?? etagOf(version));
  });
  return userOf(deps, actor, updated.identity, updated.version, base);
}

/** `PATCH /Users/{id}`: the operations applied to the current User, the result written as a replace. */
export async function patchScimUser(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  operations: readonly PatchOperation[],
  ifMatch: string | undefined,
  base: string,
): Promise<ScimUser> {
  const updated = await readModifyWrite(ifMatch, async (expected) => {
    const { identity, version } = await getIdentity(deps, actor, id);
    const patched = applyPatch(await userOf(deps, actor, identity, version, base), operations);
    return updateIdentity(deps, actor, id, identityFieldsOf(patched, identity), expected ?? etagOf(version));
  });
  return userOf(deps, actor, updated.identity, updated.version, base);
}

/** `DELETE /Users/{id}`: refused (409) while the identity has access history; deactivate it instead. */
export async function deleteScimUser(deps: ServiceDeps, actor: Actor, id: string, ifMatch: string | undefined): Promise<void> {
  await deleteIdentity(deps, actor, id, ifMatch);
}
