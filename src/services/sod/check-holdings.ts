/**
 * What a write's separation-of-duties check (checks.ts `checkSod`) reads of the identities it
 * checks: the assignments that count for each, the unit chains their contexts need, and the
 * names of policy resources. Two sources give the same answer:
 *
 * - the write's transaction (model.ts): its own state, always right, at the cost of a few
 *   queries per check (the identities, their unit chains, their own and their units'
 *   assignments, the delegation sources; then the names when something conflicts);
 * - the access index (held-in-index.ts), when it holds exactly the write's state: it has
 *   applied the write's base revision (`tx.revision - 1`: a tenant's writes are serialized, so
 *   nothing else commits until this write does) and the write has recorded no change of
 *   anything the index follows (`tx.hasChanged`). Then none of those queries is made.
 *
 * The exceptions that mitigate a conflict are read from the write in both cases.
 *
 * ```ts
 * const holdings = await checkHoldings(tx, deps.access, graph, targets, [], now);
 * const vias = holdings.counting(identityId); // null: no such identity
 * ```
 */
import { unitAndAncestors } from '../../domain/access-rules.ts';
import { resourceKey, type SodResource, type SodVia } from '../../domain/sod.ts';
import type { AccessEngine } from '../../engine/engine.ts';
import { FACT_ENTITY_NAMES } from '../../store/fact-rows.ts';
import type { TenantDb } from '../../store/store.ts';
import { isWrite } from './catalog.ts';
import { countingForCheck, IndexHoldings, writeCheckView } from './held-in-index.ts';
import { countingAssignments, loadSodModel, loadUnitChains, type LoadedAssignment, type SodGraph } from './model.ts';

export interface CheckHoldings {
  /** The identity's assignments that count (each that can give a policy resource); null when it does not exist. */
  counting: (identityId: string) => SodVia[] | null;
  /** Makes the chains of these units known to {@link CheckHoldings.ancestors}. */
  knowUnits: (unitIds: readonly string[]) => Promise<void>;
  /** The unit and its ancestors, nearest first. */
  ancestors: (unitId: string) => readonly string[];
  /** A policy resource's name when the source has it at hand (the index); null: read the names. */
  names: ((resource: SodResource) => string | null) | null;
}

/**
 * The holdings of `targets` for a check at `now`: from the index when it holds the write's
 * state, else from the write. `addedUnits`: the unit contexts of the proposed additions.
 */
export async function checkHoldings(tx: TenantDb, access: AccessEngine | undefined, graph: SodGraph, targets: readonly string[], addedUnits: readonly string[], now: number): Promise<CheckHoldings> {
  return (await fromIndex(tx, access, graph, targets, addedUnits, now)) ?? (await fromWrite(tx, graph, targets, now));
}

async function fromWrite(tx: TenantDb, graph: SodGraph, targets: readonly string[], now: number): Promise<CheckHoldings> {
  const m = await loadSodModel(tx, graph, targets, new Date(now).toISOString());
  return {
    counting: (identityId) => (m.model.identities.has(identityId) ? countingAssignments(m, identityId, now).map(viaOf) : null),
    knowUnits: (unitIds) => loadUnitChains(tx, m.model.units, unitIds),
    ancestors: (unitId) => unitAndAncestors(m.model, unitId),
    names: null,
  };
}

/** Read synchronously at a quiet point of the index (no sync half-applied), so every answer is of one revision. */
async function fromIndex(tx: TenantDb, access: AccessEngine | undefined, graph: SodGraph, targets: readonly string[], addedUnits: readonly string[], now: number): Promise<CheckHoldings | null> {
  if (!access || !isWrite(tx) || tx.hasChanged(FACT_ENTITY_NAMES)) return null;
  const base = tx.revision - 1;
  const gives = (r: SodResource) => (r.type === 'role' ? graph.roles.has(r.id) : graph.permissions.has(r.id));
  return access.settled(tx.tenantId, (index, revision): CheckHoldings | null => {
    if (revision !== base) return null;
    const view = writeCheckView(index, targets);
    const counted = new Map(targets.map((id) => [id, countingForCheck(index, id, gives, now, view)]));
    const h = new IndexHoldings(index, graph.keys, now);
    const units = new Set(addedUnits);
    for (const vias of counted.values()) for (const v of vias ?? []) if (v.context.type === 'orgUnit' && v.context.id) units.add(v.context.id);
    const chains = new Map([...units].map((u) => [u, h.ancestors(u)]));
    const names = new Map<string, string | null>();
    for (const key of graph.keys) {
      const at = key.indexOf(':');
      names.set(key, h.nameOf({ type: key.slice(0, at) === 'role' ? 'role' : 'permission', id: key.slice(at + 1) }));
    }
    return {
      counting: (identityId) => counted.get(identityId) ?? null,
      knowUnits: () => Promise.resolve(),
      ancestors: (unitId) => chains.get(unitId) ?? [unitId],
      names: (r) => names.get(resourceKey(r)) ?? null,
    };
  });
}

function viaOf(a: LoadedAssignment): SodVia {
  return {
    assignmentId: a.fact.id,
    proposed: false,
    source: a.source,
    assignee: { type: a.fact.assigneeType, id: a.fact.assigneeId },
    assigned: { type: a.fact.resourceType, id: a.fact.resourceId },
    context: a.fact.context,
  };
}
