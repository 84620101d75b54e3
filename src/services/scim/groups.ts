/**
 * SCIM Groups: organization units (RFC 7643 §4.2).
 *
 * | SCIM | organization unit |
 * | --- | --- |
 * | `id` | `id` |
 * | `displayName` | `name` (a group an identity provider creates is a root unit) |
 * | `externalId` | `externalId` |
 * | `members` | the identities whose unit it is |
 *
 * An identity belongs to one organization unit: adding a User to a Group moves it out of
 * the unit it was in. Members are Users only (a Group as a member is a 400 `invalidValue`).
 * Writes go through the directory's use cases (`createOrgUnit`, `updateOrgUnit`,
 * `deleteOrgUnit`): members change in the same write as the unit, with the same audit
 * events, assignment rules and access index as the native API.
 */
import { sql } from 'kysely';
import { etagOf } from '../../domain/etag.ts';
import { SCHEMA_GROUP } from '../../domain/scim.ts';
import type { TenantDb } from '../../store/store.ts';
import { changeUnitMembers, createOrgUnit, deleteOrgUnit, getOrgUnit, toOrgUnitView, updateOrgUnit, type OrgUnitView } from '../directory/index.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { filterCondition, sortTerm, type AttributeMap } from './filter.ts';
import { applyPatch, patchOperations, type PatchOperation } from './patch.ts';
import { invalidValue, meta, pageWithTotal, readModifyWrite, text, type ListQuery, type ListResult, type ScimResource } from './resources.ts';

const col = (name: string) => sql.ref(`org_units.${name}`);

/** One of the unit's members meets `inner` (over the identities table). */
const hasMember = (inner: ReturnType<typeof sql<boolean>>) =>
  sql<boolean>`exists (select 1 from identities where identities.tenant_id = org_units.tenant_id and identities.org_unit_id = org_units.id and ${inner})`;

const MEMBER_VALUES: AttributeMap = {
  value: { kind: 'text', column: sql.ref('identities.id'), caseExact: true },
  display: { kind: 'text', column: sql.ref('identities.username') },
};

const GROUP_ATTRIBUTES: AttributeMap = {
  id: { kind: 'text', column: col('id'), caseExact: true },
  displayname: { kind: 'text', column: col('name') },
  externalid: { kind: 'text', column: col('external_id'), caseExact: true },
  members: { kind: 'multi', value: 'value', attributes: MEMBER_VALUES, has: hasMember },
  'meta.created': { kind: 'time', column: col('created_at') },
  'meta.lastmodified': { kind: 'time', column: col('updated_at') },
};

export interface ScimGroupMember {
  value: string;
  display?: string;
  $ref: string;
  type: 'User';
}

export interface ScimGroup extends ScimResource {
  displayName: string;
  externalId?: string;
  members?: ScimGroupMember[];
  [key: string]: unknown;
}

type MemberRow = { id: string; org_unit_id: string | null; username: string | null; display_name: string | null; first_name: string | null; last_name: string | null; subject: string };

const memberName = (m: MemberRow) => m.display_name ?? ([m.first_name, m.last_name].filter(Boolean).join(' ') || m.username || m.subject);

/** The SCIM Group of a unit; `members` null leaves them out (`excludedAttributes=members`). */
export function toScimGroup(unit: OrgUnitView, version: number, members: readonly MemberRow[] | null, base: string): ScimGroup {
  return {
    schemas: [SCHEMA_GROUP],
    id: unit.id,
    ...(unit.externalId !== null ? { externalId: unit.externalId } : {}),
    displayName: unit.name,
    ...(members ? { members: members.map((m) => ({ value: m.id, display: memberName(m), $ref: `${base}/Users/${m.id}`, type: 'User' as const })) } : {}),
    meta: meta('Group', `${base}/Groups/${unit.id}`, unit.createdAt, unit.updatedAt, version),
  };
}

async function membersOf(scope: TenantDb, unitIds: readonly string[]): Promise<Map<string, MemberRow[]>> {
  const byUnit = new Map<string, MemberRow[]>(unitIds.map((id) => [id, []]));
  if (!unitIds.length) return byUnit;
  const rows = await scope.db
    .selectFrom('identities')
    .select(['id', 'org_unit_id', 'username', 'display_name', 'first_name', 'last_name', 'subject'])
    .where('tenant_id', '=', scope.tenantId)
    .where('org_unit_id', 'in', [...unitIds])
    .orderBy('number')
    .execute();
  for (const row of rows) byUnit.get(row.org_unit_id!)?.push(row);
  return byUnit;
}

/** `GET /Groups`: the units `filter` selects, `count` of them from `startIndex` (1-based), by `sortBy` then number. */
export async function listScimGroups(deps: ServiceDeps, actor: Actor, query: ListQuery & { withMembers: boolean }, base: string): Promise<ListResult<ScimGroup>> {
  requireRight(actor, 'manage-users');
  const scope = deps.store.read(actor.caller.tenantId);
  const where = query.filter ? filterCondition(query.filter, GROUP_ATTRIBUTES) : sql<boolean>`(1 = 1)`;
  const selected = scope.db.selectFrom('org_units').where('tenant_id', '=', scope.tenantId).where(where);
  const sorted = query.sortBy ? selected.orderBy(sortTerm(query.sortBy, query.sortOrder ?? 'ascending', GROUP_ATTRIBUTES)) : selected;
  const { total, rows } = await pageWithTotal(
    query,
    (limit, offset) => sorted.selectAll().orderBy('number').limit(limit).offset(offset).execute(),
    async () => Number((await selected.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirstOrThrow()).total),
  );
  const members = query.withMembers ? await membersOf(scope, rows.map((r) => r.id)) : null;
  return { total, resources: rows.map((r) => toScimGroup(toOrgUnitView(r), r.version, members?.get(r.id) ?? null, base)) };
}

export async function getScimGroup(deps: ServiceDeps, actor: Actor, id: string, base: string, withMembers = true): Promise<ScimGroup> {
  const { unit, version } = await getOrgUnit(deps, actor, id);
  const members = withMembers ? ((await membersOf(deps.store.read(actor.caller.tenantId), [id])).get(id) ?? []) : null;
  return toScimGroup(unit, version, members, base);
}

/** The unit fields of a Group body: `displayName`, `externalId` and the member ids. */
function unitFieldsOf(body: Record<string, unknown>): { name: string; externalId: string | null; memberIds: string[] | undefined } {
  const name = text(body.displayName, 'displayName', 200);
  if (!name) throw invalidValue('displayName', 'is required');
  const members = body.members;
  return { name, externalId: text(body.externalId, 'externalId', 200), memberIds: members === undefined || members === null ? undefined : memberIdsOf(members) };
}

/** The User ids of a `members` list (a Group as a member is a 400 `invalidValue`). */
function memberIdsOf(members: unknown): string[] {
  if (!Array.isArray(members)) throw invalidValue('members', 'must be a list');
  const ids = members.map((m, i) => {
    const member = (m && typeof m === 'object' ? m : {}) as Record<string, unknown>;
    if (typeof member.type === 'string' && member.type !== 'User') throw invalidValue(`members[${i}].type`, 'must be User: a Group cannot be a member');
    const value = text(member.value, `members[${i}].value`, 64);
    if (!value) throw invalidValue(`members[${i}].value`, 'is required');
    return value;
  });
  return [...new Set(ids)];
}

/** `POST /Groups`: a root unit with its members, in one write. */
export async function createScimGroup(deps: ServiceDeps, actor: Actor, body: Record<string, unknown>, base: string): Promise<ScimGroup> {
  const fields = unitFieldsOf(body);
  const created = await createOrgUnit(deps, actor, { name: fields.name, externalId: fields.externalId, memberIds: fields.memberIds });
  return getScimGroup(deps, actor, created.unit.id, base);
}

/** `PUT /Groups/{id}`: name, externalId and members replaced (members absent: none). */
export async function replaceScimGroup(deps: ServiceDeps, actor: Actor, id: string, body: Record<string, unknown>, ifMatch: string | undefined, base: string): Promise<ScimGroup> {
  const { version } = await getOrgUnit(deps, actor, id);
  const fields = unitFieldsOf(body);
  await updateOrgUnit(deps, actor, id, { name: fields.name, externalId: fields.externalId, memberIds: fields.memberIds ?? [] }, ifMatch ?? etagOf(version));
  return getScimGroup(deps, actor, id, base);
}

/**
 * `PATCH /Groups/{id}`. Operations that only add or remove members (the forms Okta and Entra
 * send to push membership) change just the members named, without reading the Group's
 * others; any other PATCH is applied to the Group with its members and the result written in
 * one update (see {@link readModifyWrite} for concurrent PATCHes).
 */
export async function patchScimGroup(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  operations: readonly PatchOperation[],
  ifMatch: string | undefined,
  base: string,
): Promise<ScimGroup> {
  const change = memberChangeOf(operations);
  if (change) {
    await changeUnitMembers(deps, actor, id, change, ifMatch);
    return getScimGroup(deps, actor, id, base);
  }
  await readModifyWrite(ifMatch, async (expected) => {
    const current = await getScimGroup(deps, actor, id, base);
    const patched = applyPatch({ ...current, members: current.members ?? [] }, operations);
    const fields = unitFieldsOf(patched);
    await updateOrgUnit(deps, actor, id, { name: fields.name, externalId: fields.externalId, memberIds: fields.memberIds ?? [] }, expected ?? current.meta.version);
  });
  return getScimGroup(deps, actor, id, base);
}

const MEMBER_BY_VALUE = /^members\[value eq "([^"\\]+)"\]$/i;

/**
 * The members added and removed when every operation is one of: `add` to `members` with a
 * list of `{value}`, `remove` of `members[value eq "…"]`, or `remove` of `members` with a
 * list of `{value}` (Entra). Anything else (a rename, `replace` of the members, a member of
 * type Group): null, and the PATCH is applied whole.
 */
function memberChangeOf(operations: readonly PatchOperation[]): { add: string[]; remove: string[] } | null {
  patchOperations(operations);
  const add: string[] = [];
  const remove: string[] = [];
  for (const operation of operations) {
    const op = String(operation.op).toLowerCase();
    const path = operation.path?.trim() ?? '';
    const byValue = MEMBER_BY_VALUE.exec(path);
    if (op === 'remove' && byValue && operation.value === undefined) {
      remove.push(byValue[1]!);
      continue;
    }
    if (path.toLowerCase() !== 'members' || (op !== 'add' && op !== 'remove')) return null;
    if (!Array.isArray(operation.value) || !operation.value.length) return null;
    (op === 'add' ? add : remove).push(...memberIdsOf(operation.value));
  }
  return { add, remove };
}

/** `DELETE /Groups/{id}`: its members leave it and it is deleted, in one write (409 while it has child units or assignments). */
export async function deleteScimGroup(deps: ServiceDeps, actor: Actor, id: string, ifMatch: string | undefined): Promise<void> {
  await deleteOrgUnit(deps, actor, id, ifMatch, { releaseMembers: true });
}
