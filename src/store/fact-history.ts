/**
 * Access history (docs/history.md): every version of every fact effective access is computed
 * from, with the interval of revisions it held for, written in the same transaction as the
 * change. A version is valid from the revision that wrote it (`from_rev`) until the revision
 * that replaced or deleted it (`to_rev`, null while current).
 *
 * Stored compactly (migration 0027): every id the history mentions — a fact's own and the ids
 * it refers to — is interned once per tenant as an integer key (`access_history_keys`, the
 * one tenant-scoped table of the three). A version is `(key, entity, from_rev, to_rev, data)`
 * (primary key `(key, entity, from_rev)`: an id is one key whatever kind of fact it names),
 * `data` the row as a positional JSON array with the ids it refers to replaced by their keys.
 * `access_history_refs` lists, per version, the keys it refers to, so the facts around one
 * identity or one permission at any revision are found by index without reading the whole
 * history. Every read reaches versions and refs through the keys table, so the tenant
 * filter of `access_history_keys` scopes them.
 */
import { SqliteAdapter, sql, type Kysely } from 'kysely';
import { FACT_ORDER, factEntity, factRefs, readFactRows, type FactEntity, type FactRow } from './fact-rows.ts';
import type { Database } from './schema.ts';

const CHUNK = 500;

/** The kind of a version's fact, as `access_history_versions.entity` and `access_history_refs.entity` store it. */
export const ENTITY_CODE: Readonly<Record<FactEntity, number>> = { unit: 1, identity: 2, application: 3, permission: 4, role: 5, assignment: 6, account: 7 };

/** A field of a row: a plain value, an id (stored as its key), a list of ids, or an account's grants. */
type FieldKind = 'value' | 'id' | 'ids' | 'grants';

/** The positional layout of each kind's row (its `id` is the version's key). */
const FIELDS: Readonly<Record<FactEntity, readonly (readonly [string, FieldKind])[]>> = {
  unit: [
    ['number', 'value'],
    ['name', 'value'],
    ['parent_id', 'id'],
    ['external_id', 'value'],
  ],
  identity: [
    ['number', 'value'],
    ['subject', 'value'],
    ['username', 'value'],
    ['email', 'value'],
    ['display_name', 'value'],
    ['status', 'value'],
    ['org_unit_id', 'id'],
  ],
  application: [
    ['number', 'value'],
    ['name', 'value'],
    ['kind', 'value'],
    ['builtin', 'value'],
  ],
  permission: [
    ['number', 'value'],
    ['application_id', 'id'],
    ['name', 'value'],
    ['delegable', 'value'],
  ],
  role: [
    ['name', 'value'],
    ['permissionIds', 'ids'],
    ['includedRoleIds', 'ids'],
  ],
  assignment: [
    ['assignee_type', 'value'],
    ['assignee_id', 'id'],
    ['resource_type', 'value'],
    ['resource_id', 'id'],
    ['context_type', 'value'],
    ['context_id', 'value'],
    ['source', 'value'],
    ['state', 'value'],
    ['valid_from', 'value'],
    ['valid_to', 'value'],
    ['delegated_from_id', 'id'],
    ['delegator_id', 'id'],
    ['rule_id', 'value'],
  ],
  account: [
    ['application_id', 'id'],
    ['name', 'value'],
    ['identity_id', 'id'],
    ['status', 'value'],
    ['observed_at', 'value'],
    ['import_id', 'value'],
    ['grants', 'grants'],
  ],
};

type Grant = { permission_id: string; context_type: string; context_id: string | null };
type EncodedGrant = [number, string, string | null];

/** The ids a row mentions (its own and every id field), which must have keys before it is encoded. */
export function mentionedIds(entity: FactEntity, row: FactRow): string[] {
  const out = [row.id];
  const r = row as unknown as Record<string, unknown>;
  for (const [name, kind] of FIELDS[entity]) {
    const v = r[name];
    if (kind === 'id' && typeof v === 'string') out.push(v);
    else if (kind === 'ids') out.push(...(v as string[]));
    else if (kind === 'grants') for (const g of v as Grant[]) out.push(g.permission_id);
  }
  return out;
}

/** The row as stored: a JSON array in {@link FIELDS} order, ids as keys, trailing nulls left out. */
export function encodeFact(entity: FactEntity, row: FactRow, keyOf: ReadonlyMap<string, number>): string {
  const key = (id: string) => keyOf.get(id) ?? fail(`no history key for ${id}`);
  const r = row as unknown as Record<string, unknown>;
  const out: unknown[] = FIELDS[entity].map(([name, kind]) => {
    const v = r[name] ?? null;
    if (v === null || kind === 'value') return v;
    if (kind === 'id') return key(v as string);
    if (kind === 'ids') return (v as string[]).map(key);
    return (v as Grant[]).map((g): EncodedGrant => [key(g.permission_id), g.context_type, g.context_id]);
  });
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return JSON.stringify(out);
}

/** A stored row's values (`data` parsed once: {@link encodedKeys} and {@link decodeFact} both read them). */
export function parseFact(data: string): unknown[] {
  return JSON.parse(data) as unknown[];
}

/** The keys a stored row refers to (to be resolved before {@link decodeFact}). */
export function encodedKeys(entity: FactEntity, values: readonly unknown[]): number[] {
  const out: number[] = [];
  FIELDS[entity].forEach(([, kind], i) => {
    const v = values[i];
    if (v === null || v === undefined || kind === 'value') return;
    if (kind === 'id') out.push(v as number);
    else if (kind === 'ids') out.push(...(v as number[]));
    else for (const g of v as EncodedGrant[]) out.push(g[0]);
  });
  return out;
}

/** The row a stored version holds (its values, {@link parseFact}), as the access index applies it. */
export function decodeFact(entity: FactEntity, id: string, values: readonly unknown[], idOf: (key: number) => string): FactRow {
  const row: Record<string, unknown> = { id };
  FIELDS[entity].forEach(([field, kind], i) => {
    const v = values[i] ?? null;
    if (v === null) row[field] = kind === 'ids' || kind === 'grants' ? [] : null;
    else if (kind === 'value') row[field] = v;
    else if (kind === 'id') row[field] = idOf(v as number);
    else if (kind === 'ids') row[field] = (v as number[]).map(idOf);
    else row[field] = (v as EncodedGrant[]).map(([p, contextType, contextId]) => ({ permission_id: idOf(p), context_type: contextType, context_id: contextId }));
  });
  return row as unknown as FactRow;
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * The keys of the ids, creating those the tenant's history has not mentioned yet. Queries
 * name the tenant themselves: migrations run this on an unscoped handle.
 */
export async function internIds(db: Kysely<Database>, tenantId: string, ids: Iterable<string>): Promise<Map<string, number>> {
  const wanted = [...new Set(ids)];
  const out = new Map<string, number>();
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const chunk = wanted.slice(i, i + CHUNK);
    const find = async (list: string[]) => {
      const rows = await db.selectFrom('access_history_keys').select(['key', 'entity_id']).where('tenant_id', '=', tenantId).where('entity_id', 'in', list).execute();
      for (const r of rows) out.set(r.entity_id, Number(r.key));
    };
    await find(chunk);
    const missing = chunk.filter((id) => !out.has(id));
    if (missing.length === 0) continue;
    await db
      .insertInto('access_history_keys')
      .values(missing.map((entity_id) => ({ tenant_id: tenantId, entity_id })))
      .onConflict((oc) => oc.columns(['tenant_id', 'entity_id']).doNothing())
      .execute();
    await find(missing);
  }
  return out;
}

/**
 * The ids of the keys the history read so far, per tenant, shared by every read of one store.
 * A key names one id for ever — keys are only added, never changed, deleted or reused, and
 * only committed reads fill the cache — so an entry, once read, stays right; a key not cached
 * is read ({@link KeyNames.resolve}). What is cached is the ids facts refer to (units,
 * identities, roles, permissions, applications, delegation sources): about the size of the
 * directory. Bounded: past {@link KEY_CACHE_ENTRIES} entries (all tenants together) it starts over.
 */
export class KeyNames {
  private readonly tenants = new Map<string, Map<number, string>>();
  private entries = 0;

  /**
   * Resolves the keys (those neither in `local` nor cached are read, the tenant's, and
   * cached); returns what names a key: `local`, else the tenant's cache.
   */
  async resolve(db: Kysely<Database>, tenantId: string, keys: Iterable<number>, local: ReadonlyMap<number, string>): Promise<(key: number) => string> {
    let names = this.tenants.get(tenantId);
    if (names === undefined) this.tenants.set(tenantId, (names = new Map()));
    const wanted = new Set<number>();
    for (const k of keys) if (!local.has(Number(k))) wanted.add(Number(k));
    const missing = [...wanted].filter((k) => !names!.has(k));
    if (missing.length > 0) {
      const read = await idsOfKeys(db, tenantId, missing);
      if (this.entries + read.size > KEY_CACHE_ENTRIES) {
        // Starts over, keeping what this call needs (a call still resolving keeps the map it holds).
        names = new Map([...wanted].filter((k) => names!.has(k)).map((k) => [k, names!.get(k)!]));
        this.tenants.clear();
        this.tenants.set(tenantId, names);
        this.entries = names.size;
      }
      for (const [k, id] of read) names.set(k, id);
      this.entries += read.size;
    }
    const cached = names;
    return (key) => local.get(Number(key)) ?? cached.get(Number(key)) ?? fail(`history key ${key} not resolved`);
  }
}

/** Cached key names at most per {@link KeyNames} (about 100 bytes each). */
const KEY_CACHE_ENTRIES = 200_000;

/**
 * The ids of keys (the tenant's). Raw SQL that names the tenant itself: on SQLite the keys
 * table is read `not indexed`, i.e. by its rowid (the key) alone — with the tenant filter
 * and no statistics, SQLite otherwise walks every key of the tenant in the
 * `(tenant_id, entity_id)` index to find a few.
 */
export async function idsOfKeys(db: Kysely<Database>, tenantId: string, keys: Iterable<number>): Promise<Map<number, string>> {
  const wanted = [...new Set(keys)];
  const out = new Map<number, string>();
  const table = db.getExecutor().adapter instanceof SqliteAdapter ? sql`access_history_keys not indexed` : sql`access_history_keys`;
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const chunk = wanted.slice(i, i + CHUNK).map((k) => Number(k));
    const { rows } = await sql<{ key: number | string; entity_id: string }>`select key, entity_id from ${table} where tenant_id = ${tenantId} and key in (${sql.join(chunk)})`.execute(db);
    for (const r of rows) out.set(Number(r.key), r.entity_id);
  }
  return out;
}

/**
 * Records the new versions of the facts a write changed: closes each one's current version
 * at `revision` and inserts the row it has now (none when it was deleted).
 */
export async function recordFacts(db: Kysely<Database>, tenantId: string, revision: number, changes: Iterable<{ entity: string; entityId: string }>): Promise<void> {
  const byEntity = new Map<FactEntity, Set<string>>();
  for (const c of changes) {
    const entity = factEntity(c.entity);
    if (entity === undefined) continue;
    let ids = byEntity.get(entity);
    if (ids === undefined) byEntity.set(entity, (ids = new Set()));
    ids.add(c.entityId);
  }
  for (const entity of FACT_ORDER) {
    const ids = [...(byEntity.get(entity) ?? [])];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await readFactRows(db, tenantId, entity, chunk);
      const keyOf = await internIds(db, tenantId, [...chunk, ...rows.flatMap((r) => mentionedIds(entity, r))]);
      await db
        .updateTable('access_history_versions')
        .set({ to_rev: revision })
        .where(
          'key',
          'in',
          chunk.map((id) => keyOf.get(id)!),
        )
        .where('entity', '=', ENTITY_CODE[entity])
        .where('to_rev', 'is', null)
        .execute();
      await insertVersions(db, entity, rows.map((row) => ({ row, fromRev: revision, toRev: null })), keyOf);
    }
  }
}

/** Inserts versions (their ids, and the ids they refer to, have keys in `keyOf`) with their refs. */
export async function insertVersions(
  db: Kysely<Database>,
  entity: FactEntity,
  versions: readonly { row: FactRow; fromRev: number; toRev: number | null }[],
  keyOf: ReadonlyMap<string, number>,
): Promise<void> {
  for (let i = 0; i < versions.length; i += CHUNK) {
    const chunk = versions.slice(i, i + CHUNK);
    await db
      .insertInto('access_history_versions')
      .values(chunk.map((v) => ({ key: keyOf.get(v.row.id)!, entity: ENTITY_CODE[entity], from_rev: v.fromRev, to_rev: v.toRev, data: encodeFact(entity, v.row, keyOf) })))
      .execute();
    const refs = chunk.flatMap((v) => factRefs(entity, v.row).map((ref) => ({ ref_key: keyOf.get(ref)!, entity: ENTITY_CODE[entity], from_rev: v.fromRev, key: keyOf.get(v.row.id)! })));
    for (let j = 0; j < refs.length; j += CHUNK) await db.insertInto('access_history_refs').values(refs.slice(j, j + CHUNK)).execute();
  }
}

/**
 * Removes the versions no instant from `revision` on needs — those replaced or deleted at or
 * before it — with their refs (retention, docs/history.md). Every version valid at
 * `revision` or later is kept, so answers from then on are unchanged. Returns how many
 * versions were removed. (`db` applies the tenant: the keys subquery scopes both deletes.)
 */
export async function pruneFacts(db: Kysely<Database>, revision: number): Promise<number> {
  const tenantKeys = db.selectFrom('access_history_keys').select('key');
  await db
    .deleteFrom('access_history_refs')
    .where('key', 'in', tenantKeys)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('access_history_versions as v')
          .select('v.from_rev')
          .whereRef('v.key', '=', 'access_history_refs.key')
          .whereRef('v.entity', '=', 'access_history_refs.entity')
          .whereRef('v.from_rev', '=', 'access_history_refs.from_rev')
          .where('v.to_rev', 'is not', null)
          .where('v.to_rev', '<=', revision),
      ),
    )
    .execute();
  const removed = await db.deleteFrom('access_history_versions').where('key', 'in', tenantKeys).where('to_rev', 'is not', null).where('to_rev', '<=', revision).executeTakeFirst();
  return Number(removed.numDeletedRows);
}

/** A stored version as the history reads return it: the kind, the fact's key and id, its row. */
export interface StoredVersion {
  entity: FactEntity;
  key: number;
  entity_id: string;
  data: string;
}

const ENTITY_OF_CODE = new Map<number, FactEntity>(Object.entries(ENTITY_CODE).map(([e, c]) => [c, e as FactEntity]));

/** The kind a stored `entity` code names. */
export function entityOfCode(code: number | string): FactEntity {
  return ENTITY_OF_CODE.get(Number(code)) ?? fail(`unknown history entity code ${code}`);
}
