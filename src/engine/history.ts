/**
 * Effective access at a past instant (docs/history.md). The store keeps every version of the
 * facts the access index is built from, each valid over an interval of revisions
 * (src/store/fact-history.ts). For an instant T, the revision in force is the last one
 * committed at or before T; the facts valid at that revision around what is asked (one
 * identity, or the holders of one permission) are read into a fresh {@link TenantIndex}
 * and the engine's own queries answer with `now = T`. No rule of effective access is
 * evaluated here: this file only decides which facts to load.
 */
import { sql } from 'kysely';
import { AppError } from '../domain/errors.ts';
import { decodeFact, encodedKeys, ENTITY_CODE, entityOfCode, KeyNames, parseFact, type StoredVersion } from '../store/fact-history.ts';
import { FACT_ORDER, factEntity, factRefs, type AccountRow, type AssignmentRow, type FactEntity, type FactRow, type IdentityRow, type RoleRow, type UnitRow } from '../store/fact-rows.ts';
import type { Store } from '../store/store.ts';
import { applyFacts } from './loader.ts';
import { TenantIndex } from './tenant-index.ts';

const IN_CHUNK = 500;
/** Memory for a historical index's cached sets: it answers one request and is dropped. */
const HISTORY_CACHE_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 256;

/** The instants a tenant's history covers. */
export interface HistoryBounds {
  /** When the tenant was created. */
  tenantCreatedAt: string;
  /** From when its access history answers (its creation, when recording began, or the retention horizon). */
  recordedFrom: string;
  /** Versions before this instant were pruned (retention); null when never pruned. */
  prunedBefore: string | null;
}

/** The facts read for one question, by kind and id, and the index built from them. */
export class HistoricalFacts {
  readonly rows = new Map<FactEntity, Map<string, FactRow>>(FACT_ORDER.map((e) => [e, new Map()]));

  has(entity: FactEntity, id: string): boolean {
    return this.rows.get(entity)!.has(id);
  }

  /** Every id read (of any kind). */
  ids(): Set<string> {
    const out = new Set<string>();
    for (const m of this.rows.values()) for (const id of m.keys()) out.add(id);
    return out;
  }

  /** A fresh index of these facts, built by the engine's own `apply*`. */
  index(tenantId: string): TenantIndex {
    const index = new TenantIndex(tenantId, HISTORY_CACHE_BYTES);
    for (const entity of FACT_ORDER) applyFacts(index, entity, [...this.rows.get(entity)!.values()], true);
    return index;
  }
}

export class AccessHistory {
  constructor(private readonly store: Store) {}

  async bounds(tenantId: string): Promise<HistoryBounds> {
    const db = this.store.read(tenantId).db;
    const tenant = await db.selectFrom('tenants').select(['created_at', 'history_from_time', 'history_began_time']).where('id', '=', tenantId).executeTakeFirst();
    if (!tenant) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
    // History recorded from the tenant's first write covers it from its creation; a tenant
    // that existed before recording began has its history from then on.
    const recorded = tenant.history_began_time ?? tenant.created_at;
    const prunedBefore = tenant.history_from_time;
    // Once pruned, the earliest versions left may be old ones still valid: the horizon bounds the answers, not them.
    const recordedFrom = prunedBefore !== null && prunedBefore > recorded ? prunedBefore : recorded;
    return { tenantCreatedAt: tenant.created_at, recordedFrom, prunedBefore };
  }

  /** The revision in force at `time` (ISO): the last one committed at or before it (0: none). */
  async revisionAt(tenantId: string, time: string): Promise<number> {
    const row = await this.store
      .read(tenantId)
      .db.selectFrom('audit_events')
      .select('revision')
      .where('tenant_id', '=', tenantId)
      .where('time', '<=', time)
      .orderBy('time', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.revision) : 0;
  }

  /** The commit time of each revision of `(from, to]` that changed a fact, in order. */
  async changedRevisions(tenantId: string, fromRev: number, toRev: number, limit: number): Promise<{ revision: number; time: string }[]> {
    const rows = await this.store
      .read(tenantId)
      .db.selectFrom('audit_events')
      .select(['revision', sql<string>`min(time)`.as('time')])
      .where('tenant_id', '=', tenantId)
      .where('revision', '>', fromRev)
      .where('revision', '<=', toRev)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('changes')
            .select('changes.revision')
            .whereRef('changes.tenant_id', '=', 'audit_events.tenant_id')
            .whereRef('changes.revision', '=', 'audit_events.revision')
            .where('changes.entity', 'in', FACT_ENTITY_NAMES),
        ),
      )
      .groupBy('revision')
      .orderBy('revision')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ revision: Number(r.revision), time: r.time }));
  }

  /** The (entity, id) pairs a revision changed, with the refs of their new versions. */
  async changesAt(tenantId: string, revision: number): Promise<{ entityId: string; refs: string[] }[]> {
    const db = this.store.read(tenantId).db;
    const changed = await db.selectFrom('changes').select(['entity', 'entity_id']).where('tenant_id', '=', tenantId).where('revision', '=', revision).execute();
    const byId = new Map<string, string[]>(changed.map((c) => [c.entity_id, []]));
    const facts = new HistoricalFacts();
    for (const entity of FACT_ORDER) {
      const ids = changed.filter((c) => factEntity(c.entity) === entity).map((c) => c.entity_id);
      // The version each changed fact got at this revision (none when it was deleted).
      const rows = await new FactReader(this.store, tenantId, revision, facts).versions(entity, ids, (q) => q.where('v.from_rev', '=', revision));
      for (const row of rows) byId.set(row.id, factRefs(entity, row));
    }
    return [...byId].map(([entityId, refs]) => ({ entityId, refs }));
  }

  /**
   * The facts valid at `revision` that the effective access of the identities depends on:
   * the identities, their units up to the root, the assignments reaching them, the
   * delegation sources those depend on (with their delegators and units), the roles and
   * permissions given, their applications, and the identities' accounts.
   */
  async identityFacts(tenantId: string, revision: number, identityIds: Iterable<string>, facts = new HistoricalFacts()): Promise<HistoricalFacts> {
    const reader = new FactReader(this.store, tenantId, revision, facts);
    let identities = [...new Set(identityIds)].filter((id) => !facts.has('identity', id));
    const assignmentsOf = new Set(identities);
    const resources = new Set<string>();
    let accounts: AccountRow[] = [];
    for (let depth = 0; identities.length > 0 && depth < MAX_DEPTH; depth += 1) {
      const loaded = (await reader.byId('identity', identities)) as IdentityRow[];
      // Delegators need only their unit chain (a delegation counts while its source reaches them).
      await reader.unitChains(loaded.filter((i) => !assignmentsOf.has(i.id)).map((i) => i.org_unit_id));
      const asked = loaded.filter((i) => assignmentsOf.has(i.id));
      // Assignments reach an identity directly or through one of its units.
      const assignees = new Set([...asked.map((i) => i.id), ...(await reader.unitChains(asked.map((i) => i.org_unit_id)))]);
      // The asked identities' accounts are read along with their assignments (one read; delegators' are not needed).
      const askedNow = new Set(identities.filter((id) => assignmentsOf.has(id)));
      const read = await reader.referencingKinds(askedNow.size > 0 ? ['assignment', 'account'] : ['assignment'], [...askedNow, ...assignees]);
      accounts.push(...(read.filter((r) => r.entity === 'account' && askedNow.has((r.row as AccountRow).identity_id ?? '')).map((r) => r.row) as AccountRow[]));
      let assignments = read.filter((r) => r.entity === 'assignment' && assignees.has((r.row as AssignmentRow).assignee_id)).map((r) => r.row) as AssignmentRow[];
      const delegators = new Set<string>();
      // Delegation sources, recursively: each counts only while its source counts for its delegator.
      for (let d = 0; assignments.length > 0 && d < MAX_DEPTH; d += 1) {
        for (const a of assignments) resources.add(`${a.resource_type}\u0000${a.resource_id}`);
        const sources = assignments.map((a) => a.delegated_from_id).filter((id): id is string => id !== null && !facts.has('assignment', id));
        for (const a of assignments) if (a.delegator_id) delegators.add(a.delegator_id);
        assignments = (await reader.byId('assignment', sources)) as AssignmentRow[];
      }
      identities = [...delegators].filter((id) => !facts.has('identity', id));
    }
    accounts = [...new Map(accounts.map((a) => [a.id, a])).values()];
    // The catalog the assignments and the accounts' grants name, in one pass.
    for (const a of accounts) for (const g of a.grants) resources.add(`permission\u0000${g.permission_id}`);
    await reader.catalog(resources, accounts.map((a) => a.application_id));
    return facts;
  }

  /**
   * The units (with their ancestors) that the assignments and account grants read so far
   * name as their context, valid at `revision`: what an export needs to name each context
   * as it was.
   */
  async contextFacts(tenantId: string, revision: number, facts: HistoricalFacts): Promise<HistoricalFacts> {
    const reader = new FactReader(this.store, tenantId, revision, facts);
    const contexts: { context_type: string; context_id: string | null }[] = [...(facts.rows.get('assignment')!.values() as Iterable<AssignmentRow>)];
    for (const a of facts.rows.get('account')!.values() as Iterable<AccountRow>) contexts.push(...a.grants);
    await reader.unitChains(contexts.filter((c) => c.context_type === 'orgUnit').map((c) => c.context_id));
    return facts;
  }

  /** Catalog facts valid at `revision`: `type\0id` keys of roles (with what they include) and permissions. */
  async catalogFacts(tenantId: string, revision: number, resources: Iterable<string>, facts: HistoricalFacts): Promise<void> {
    await new FactReader(this.store, tenantId, revision, facts).catalog(resources);
  }

  /**
   * The identities that may hold the permission at `revision`: reached by an assignment of it
   * or of a role giving it (directly or through included roles), or holding an account grant
   * of it. The engine decides which of them do.
   */
  async permissionCandidates(tenantId: string, revision: number, permissionId: string): Promise<Set<string>> {
    const reader = new FactReader(this.store, tenantId, revision, new HistoricalFacts());
    const candidates = new Set<string>();
    const giving = new Set<string>([permissionId]);
    let frontier = [permissionId];
    for (let depth = 0; frontier.length > 0 && depth < MAX_DEPTH; depth += 1) {
      const roles = (await reader.referencing('role', frontier)) as RoleRow[];
      frontier = roles.filter((r) => !giving.has(r.id) && (r.permissionIds.some((p) => giving.has(p)) || r.includedRoleIds.some((i) => giving.has(i)))).map((r) => r.id);
      for (const r of frontier) giving.add(r);
    }
    const assignments = ((await reader.referencing('assignment', [...giving])) as AssignmentRow[]).filter((a) => giving.has(a.resource_id));
    let units = assignments.filter((a) => a.assignee_type === 'orgUnit').map((a) => a.assignee_id);
    for (const a of assignments) if (a.assignee_type !== 'orgUnit') candidates.add(a.assignee_id);
    // An identity's only ref is its unit, a unit's its parent: the ids alone say who is below.
    const seenUnits = new Set<string>();
    for (let depth = 0; units.length > 0 && depth < MAX_DEPTH; depth += 1) {
      units = units.filter((u) => !seenUnits.has(u));
      for (const u of units) seenUnits.add(u);
      for (const id of await reader.referencingIds('identity', units)) candidates.add(id);
      units = await reader.referencingIds('unit', units);
    }
    for (const a of (await reader.referencing('account', [permissionId])) as AccountRow[]) if (a.identity_id !== null) candidates.add(a.identity_id);
    return candidates;
  }
}

const FACT_ENTITY_NAMES = ['org_unit', 'orgUnit', 'org-unit', 'unit', 'identity', 'application', 'permission', 'role', 'assignment', 'account'];

type ReadDb = ReturnType<Store['read']>['db'];
type VersionQuery = ReturnType<typeof versionsById>;

/** Versions of the facts with these ids (every read reaches versions through the tenant's keys). */
function versionsById(db: ReadDb, entity: FactEntity, ids: string[]) {
  return db
    .selectFrom('access_history_keys as k')
    .innerJoin('access_history_versions as v', 'v.key', 'k.key')
    .select(['k.key', 'k.entity_id', 'v.data'])
    .where('k.entity_id', 'in', ids)
    .where('v.entity', '=', ENTITY_CODE[entity]);
}

/** The key names each store's history reads have resolved (a store is one database). */
const KEY_NAMES = new WeakMap<Store, KeyNames>();

/**
 * Forgets the key names read from the store's history. Only for a history whose keys were
 * renumbered under a running store — migration 0027 run again in place by a test; a server
 * migrates before it reads, and keys are never renumbered after.
 */
export function forgetKeyNames(store: Store): void {
  KEY_NAMES.delete(store);
}

function keyNamesOf(store: Store): KeyNames {
  let names = KEY_NAMES.get(store);
  if (names === undefined) KEY_NAMES.set(store, (names = new KeyNames()));
  return names;
}

/** Reads facts valid at one revision into a {@link HistoricalFacts}. */
class FactReader {
  /** The ids of the facts read so far, by key (the key names cache holds the ids they refer to). */
  private readonly names = new Map<number, string>();

  constructor(
    private readonly store: Store,
    private readonly tenantId: string,
    private readonly revision: number,
    private readonly facts: HistoricalFacts,
  ) {}

  /** The facts with these ids (those not read yet), valid at the revision. */
  async byId(entity: FactEntity, ids: Iterable<string | null>): Promise<FactRow[]> {
    const wanted = [...new Set([...ids].filter((id): id is string => id !== null && !this.facts.has(entity, id)))];
    return this.versions(entity, wanted, (q) => this.valid(q));
  }

  /** Versions of the facts with these ids that `where` selects, decoded and kept. */
  async versions(entity: FactEntity, ids: readonly string[], where: (q: VersionQuery) => VersionQuery): Promise<FactRow[]> {
    const out: FactRow[] = [];
    const db = this.store.read(this.tenantId).db;
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const rows = await where(versionsById(db, entity, ids.slice(i, i + IN_CHUNK))).execute();
      out.push(...(await this.keep(entity, rows)));
    }
    return out;
  }

  private valid<Q extends VersionQuery>(q: Q): Q {
    return q.where('v.from_rev', '<=', this.revision).where((eb) => eb.or([eb('v.to_rev', 'is', null), eb('v.to_rev', '>', this.revision)])) as Q;
  }

  /**
   * The ids of the facts of a kind that refer to any of the ids, valid at the revision,
   * without reading the facts themselves (nor keeping them).
   */
  async referencingIds(entity: FactEntity, refIds: readonly string[]): Promise<string[]> {
    const out = new Set<string>();
    const db = this.store.read(this.tenantId).db;
    const refs = [...new Set(refIds)];
    for (let i = 0; i < refs.length; i += IN_CHUNK) {
      const rows = await this.validRefs(db, [entity], refs.slice(i, i + IN_CHUNK)).select('k.entity_id').execute();
      for (const r of rows) out.add(r.entity_id);
    }
    return [...out];
  }

  private validRefs(db: ReadDb, entities: readonly FactEntity[], refs: string[]) {
    return db
      .selectFrom('access_history_keys as rk')
      .innerJoin('access_history_refs as r', 'r.ref_key', 'rk.key')
      .innerJoin('access_history_versions as v', (j) => j.onRef('v.key', '=', 'r.key').onRef('v.entity', '=', 'r.entity').onRef('v.from_rev', '=', 'r.from_rev'))
      .innerJoin('access_history_keys as k', 'k.key', 'r.key')
      .where('rk.entity_id', 'in', refs)
      .where('r.entity', 'in', entities.map((e) => ENTITY_CODE[e]))
      .where('r.from_rev', '<=', this.revision)
      .where((eb) => eb.or([eb('v.to_rev', 'is', null), eb('v.to_rev', '>', this.revision)]));
  }

  /** The facts of a kind that refer to any of the ids, valid at the revision. */
  async referencing(entity: FactEntity, refIds: readonly string[]): Promise<FactRow[]> {
    return (await this.referencingKinds([entity], refIds)).map((r) => r.row);
  }

  /** The facts of these kinds that refer to any of the ids, valid at the revision (one read). */
  async referencingKinds(entities: readonly FactEntity[], refIds: readonly string[]): Promise<{ entity: FactEntity; row: FactRow }[]> {
    const out = new Map<string, { entity: FactEntity; row: FactRow }>();
    const db = this.store.read(this.tenantId).db;
    const refs = [...new Set(refIds)];
    for (let i = 0; i < refs.length; i += IN_CHUNK) {
      const rows = await this.validRefs(db, entities, refs.slice(i, i + IN_CHUNK)).select(['r.entity', 'k.key', 'k.entity_id', 'v.data']).execute();
      // A version referring to several of the ids comes once per id: each is decoded once.
      const fresh = new Map<string, StoredVersion>();
      for (const r of rows) {
        const entity = entityOfCode(r.entity);
        const id = `${entity}\u0000${r.entity_id}`;
        if (!out.has(id)) fresh.set(id, { entity, key: Number(r.key), entity_id: r.entity_id, data: r.data });
      }
      for (const row of await this.keepAll([...fresh.values()])) out.set(`${row.entity}\u0000${row.row.id}`, row);
    }
    return [...out.values()];
  }

  /** The units and their ancestors up to the root; returns every unit id of the chains. */
  async unitChains(unitIds: Iterable<string | null>): Promise<string[]> {
    const chain = new Set<string>();
    let next = [...unitIds].filter((u): u is string => u !== null);
    for (let depth = 0; next.length > 0 && depth < MAX_DEPTH; depth += 1) {
      for (const u of next) chain.add(u);
      const missing = next.filter((u) => !this.facts.has('unit', u));
      await this.byId('unit', missing);
      next = next
        .map((u) => (this.facts.rows.get('unit')!.get(u) as UnitRow | undefined)?.parent_id ?? null)
        .filter((p): p is string => p !== null && !chain.has(p));
    }
    return [...chain];
  }

  /** Roles (with the roles they include, transitively), permissions and their applications, and the applications named. */
  async catalog(resources: Iterable<string>, applicationIds: Iterable<string> = []): Promise<void> {
    let roles: string[] = [];
    const perms: string[] = [];
    for (const key of resources) {
      const [type, id] = key.split('\u0000') as [string, string];
      if (type === 'role') roles.push(id);
      else perms.push(id);
    }
    for (let depth = 0; roles.length > 0 && depth < MAX_DEPTH; depth += 1) {
      const loaded = (await this.byId('role', roles)) as RoleRow[];
      for (const r of loaded) perms.push(...r.permissionIds);
      roles = loaded.flatMap((r) => r.includedRoleIds).filter((id) => !this.facts.has('role', id));
    }
    const loadedPerms = await this.byId('permission', perms);
    await this.byId('application', [...(loadedPerms as { application_id: string }[]).map((p) => p.application_id), ...applicationIds]);
  }

  /** {@link keep} for versions of several kinds. */
  private async keepAll(versions: readonly StoredVersion[]): Promise<{ entity: FactEntity; row: FactRow }[]> {
    const out: { entity: FactEntity; row: FactRow }[] = [];
    for (const entity of FACT_ORDER) {
      const rows = versions.filter((v) => v.entity === entity);
      for (const row of await this.keep(entity, rows)) out.push({ entity, row });
    }
    return out;
  }

  /** Decodes stored versions (resolving the keys they mention) and keeps them. */
  private async keep(entity: FactEntity, rows: readonly { key: number; entity_id: string; data: string }[]): Promise<FactRow[]> {
    if (rows.length === 0) return [];
    // The ids of the facts read are known: only the keys of others they refer to are looked up.
    for (const r of rows) this.names.set(Number(r.key), r.entity_id);
    const values = rows.map((r) => parseFact(r.data));
    const db = this.store.read(this.tenantId).db;
    const idOf = await keyNamesOf(this.store).resolve(db, this.tenantId, values.flatMap((v) => encodedKeys(entity, v)), this.names);
    return rows.map((r, i) => {
      const row = decodeFact(entity, r.entity_id, values[i]!, idOf);
      this.facts.rows.get(entity)!.set(row.id, row);
      return row;
    });
  }
}
