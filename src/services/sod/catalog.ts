/**
 * The tenant-wide part of a separation-of-duties check: the enabled policies, the resources
 * they name and the role graph cut down to those resources ({@link SodGraph}). It is the same
 * for every write until a role, a permission or a policy changes, so it is kept per tenant
 * and reused by the next write instead of being read again (a walk up the role inclusions,
 * one query per level, plus the policies) in every write that adds access.
 *
 * Kept for the tenant's committed revision it was read at. A write reuses it when nothing
 * that shapes it changed since: one query on the change feed (`changes`, by its primary key)
 * for a `role`, `permission` or `sod_policy` entry after that revision, and the write itself
 * has not changed any of them (`tx.hasChanged`) — then its own state would differ from the
 * committed one and the catalog is read from the write instead. A tenant's writes are
 * serialized, so a write's committed base is `tx.revision - 1`; every node keeps its own copy
 * and checks it the same way, so a change made on another node is seen by the next write.
 */
import { resourceKey } from '../../domain/sod.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { loadSodGraph, type SodGraph } from './model.ts';
import { enabledPolicies, type SodPolicyView } from './policies.ts';

/** Change-feed entities whose change can alter the catalog. */
export const SOD_CATALOG_ENTITIES: readonly string[] = ['role', 'permission', 'sod_policy'];

export interface SodCatalog {
  policies: readonly SodPolicyView[];
  /** `type:id` of every resource an enabled policy names. */
  keys: ReadonlySet<string>;
  /** The role graph cut down to the keys; null when there is no enabled policy. */
  graph: SodGraph | null;
}

interface Entry extends SodCatalog {
  revision: number;
}

/** How many tenants' catalogs are kept (least recently used dropped first). */
const KEPT = 256;
const cache = new Map<string, Entry>();

/** Whether the scope is a write (its base revision and its own changes known). */
export const isWrite = (scope: TenantDb): scope is WriteTx => typeof (scope as Partial<WriteTx>).hasChanged === 'function' && typeof (scope as Partial<WriteTx>).revision === 'number';

async function read(scope: TenantDb): Promise<SodCatalog> {
  const policies = await enabledPolicies(scope);
  if (!policies.length) return { policies, keys: new Set(), graph: null };
  const keys = new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey)));
  return { policies, keys, graph: await loadSodGraph(scope, keys) };
}

async function changedSince(tx: WriteTx, after: number, upTo: number): Promise<boolean> {
  const row = await tx.db
    .selectFrom('changes')
    .select('revision')
    .where('revision', '>', after)
    .where('revision', '<=', upTo)
    .where('entity', 'in', [...SOD_CATALOG_ENTITIES])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The catalog as `scope` sees it; inside a write, reused from an earlier write when still the same. */
export async function sodCatalog(scope: TenantDb): Promise<SodCatalog> {
  if (!isWrite(scope) || scope.hasChanged(SOD_CATALOG_ENTITIES)) return read(scope);
  const base = scope.revision - 1;
  const known = cache.get(scope.tenantId);
  if (known && known.revision <= base && (known.revision === base || !(await changedSince(scope, known.revision, base)))) {
    known.revision = base;
    cache.delete(scope.tenantId);
    cache.set(scope.tenantId, known);
    return known;
  }
  const fresh = await read(scope);
  cache.delete(scope.tenantId);
  cache.set(scope.tenantId, { ...fresh, revision: base });
  if (cache.size > KEPT) cache.delete(cache.keys().next().value!);
  return fresh;
}
