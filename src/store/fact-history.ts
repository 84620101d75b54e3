/**
 * Access history (docs/history.md): every version of every fact effective access is computed
 * from, with the interval of revisions it held for, written in the same transaction as the
 * change. A version is valid from the revision that wrote it (`from_rev`) until the revision
 * that replaced or deleted it (`to_rev`, null while current); `access_fact_refs` lists the
 * ids each version refers to, so the facts around one identity or one permission at any
 * revision are found without reading the whole history.
 */
import type { Kysely } from 'kysely';
import { FACT_ORDER, factEntity, factRefs, readFactRows, type FactEntity, type FactRow } from './fact-rows.ts';
import type { Database } from './schema.ts';

const CHUNK = 500;

/**
 * Records the new versions of the facts a write changed: closes each one's current version
 * at `revision` and inserts the row it has now (none when it was deleted).
 */
export async function recordFacts(
  db: Kysely<Database>,
  tenantId: string,
  revision: number,
  time: string,
  changes: Iterable<{ entity: string; entityId: string }>,
): Promise<void> {
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
      await db
        .updateTable('access_facts')
        .set({ to_rev: revision })
        .where('tenant_id', '=', tenantId)
        .where('entity', '=', entity)
        .where('entity_id', 'in', chunk)
        .where('to_rev', 'is', null)
        .execute();
      await insertVersions(db, tenantId, entity, revision, time, await readFactRows(db, tenantId, entity, chunk));
    }
  }
}

/**
 * Records every current fact of the tenant as valid from `revision` (when history begins
 * for a tenant that existed before it was recorded).
 */
export async function seedFacts(db: Kysely<Database>, tenantId: string, revision: number, time: string): Promise<void> {
  const tables: Record<FactEntity, 'org_units' | 'identities' | 'applications' | 'permissions' | 'roles' | 'assignments' | 'accounts'> = {
    unit: 'org_units',
    identity: 'identities',
    application: 'applications',
    permission: 'permissions',
    role: 'roles',
    assignment: 'assignments',
    account: 'accounts',
  };
  for (const entity of FACT_ORDER) {
    const ids = (await db.selectFrom(tables[entity]).select('id').where('tenant_id', '=', tenantId).execute()).map((r) => r.id);
    for (let i = 0; i < ids.length; i += CHUNK) {
      await insertVersions(db, tenantId, entity, revision, time, await readFactRows(db, tenantId, entity, ids.slice(i, i + CHUNK)));
    }
  }
}

async function insertVersions(db: Kysely<Database>, tenantId: string, entity: FactEntity, revision: number, time: string, rows: readonly FactRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('access_facts')
    .values(rows.map((r) => ({ tenant_id: tenantId, entity, entity_id: r.id, from_rev: revision, from_time: time, to_rev: null, data: JSON.stringify(r) })))
    .execute();
  const refs = rows.flatMap((r) => factRefs(entity, r).map((ref_id) => ({ tenant_id: tenantId, ref_id, entity, entity_id: r.id, from_rev: revision })));
  for (let i = 0; i < refs.length; i += CHUNK) await db.insertInto('access_fact_refs').values(refs.slice(i, i + CHUNK)).execute();
}

/**
 * Removes the versions no instant from `revision` on needs — those replaced or deleted at or
 * before it — with their refs (retention, docs/history.md). Every version valid at
 * `revision` or later is kept, so answers from then on are unchanged. Returns how many
 * versions were removed.
 */
export async function pruneFacts(db: Kysely<Database>, tenantId: string, revision: number): Promise<number> {
  await db
    .deleteFrom('access_fact_refs')
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('access_facts as f')
          .select('f.from_rev')
          .whereRef('f.tenant_id', '=', 'access_fact_refs.tenant_id')
          .whereRef('f.entity', '=', 'access_fact_refs.entity')
          .whereRef('f.entity_id', '=', 'access_fact_refs.entity_id')
          .whereRef('f.from_rev', '=', 'access_fact_refs.from_rev')
          .where('f.to_rev', 'is not', null)
          .where('f.to_rev', '<=', revision),
      ),
    )
    .execute();
  const removed = await db.deleteFrom('access_facts').where('tenant_id', '=', tenantId).where('to_rev', 'is not', null).where('to_rev', '<=', revision).executeTakeFirst();
  return Number(removed.numDeletedRows);
}
