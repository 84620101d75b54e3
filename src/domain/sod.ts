/**
 * Separation of duties: the pure rule that decides whether what an identity holds breaks a
 * policy. No I/O: the services load what is held (from a write's transaction or from the
 * access index) and ask {@link findConflicts}.
 *
 * A policy names at least two **sets** of resources (permissions or roles). An identity is
 * in conflict when it holds at least one resource of every set **in contexts that meet**:
 *
 * - context `All` meets every context;
 * - two organization-unit contexts meet when one unit is the other or one of its ancestors
 *   (the narrower unit is where both duties can be exercised together);
 * - identity and object contexts meet only the same context.
 *
 * So "create vendor" in unit Zurich and "approve payment" in `All` conflict (both apply in
 * Zurich), while the same two held only for Zurich and only for Geneva do not.
 *
 * ```ts
 * const found = findConflicts([policy], held, (a, b) => contextsMeet(a, b, ancestorsOf), { needProposed: true });
 * ```
 */
import type { AccessContext } from './access.ts';

export type SodMode = 'block' | 'require_exception';
export type SodSeverity = 'low' | 'medium' | 'high' | 'critical';
export const SOD_MODES: readonly SodMode[] = ['block', 'require_exception'];
export const SOD_SEVERITIES: readonly SodSeverity[] = ['low', 'medium', 'high', 'critical'];

/** Bounds of a policy: sets per policy and resources per set. */
export const MAX_SOD_SETS = 10;
export const MAX_SOD_SET_SIZE = 100;

export interface SodResource {
  type: 'permission' | 'role';
  id: string;
}

export const resourceKey = (r: SodResource): string => `${r.type}:${r.id}`;

export interface SodPolicyRule {
  id: string;
  name: string;
  mode: SodMode;
  severity: SodSeverity;
  conflicting: readonly (readonly SodResource[])[];
}

/** One way a policy resource is held: the assignment behind it (or the proposed addition). */
export interface SodVia {
  /** null for an addition that is only proposed (not written yet). */
  assignmentId: string | null;
  proposed: boolean;
  source: string;
  assignee: { type: 'identity' | 'orgUnit'; id: string };
  /** The resource the assignment gives (a role may give the policy resource through its contents). */
  assigned: SodResource;
  context: AccessContext;
}

export interface SodHeldItem {
  resource: SodResource;
  via: SodVia;
}

export interface SodSetHolding {
  /** Position of the set in the policy's `conflicting`. */
  set: number;
  held: { resource: SodResource; via: SodVia[] }[];
}

export interface SodFinding {
  policy: SodPolicyRule;
  sets: SodSetHolding[];
}

/**
 * Whether two held contexts meet (see the module comment). `ancestors(unitId)` gives the
 * unit and its ancestors, nearest first.
 */
export function contextsMeet(a: AccessContext, b: AccessContext, ancestors: (unitId: string) => readonly string[]): boolean {
  if (a.type === 'all' || b.type === 'all') return true;
  if (a.type !== b.type || a.id === null || b.id === null) return false;
  if (a.id === b.id) return true;
  if (a.type !== 'orgUnit') return false;
  return ancestors(a.id).includes(b.id) || ancestors(b.id).includes(a.id);
}

/**
 * The policies the held items break. With `needProposed`, only conflicts a proposed
 * addition takes part in (an existing conflict that the addition does not touch is not the
 * addition's fault). Each finding lists, per set, the held items that take part in at least
 * one conflicting combination — the explanation.
 */
export function findConflicts(
  policies: readonly SodPolicyRule[],
  held: readonly SodHeldItem[],
  meet: (a: AccessContext, b: AccessContext) => boolean,
  options: { needProposed?: boolean } = {},
): SodFinding[] {
  const byKey = heldByKey(held);
  const found: SodFinding[] = [];
  for (const policy of policies) {
    const finding = explainConflict(policy, byKey, meet, options);
    if (finding) found.push(finding);
  }
  return found;
}

/** The held items grouped by resource key (build once per identity, ask many policies). */
export function heldByKey(held: readonly SodHeldItem[]): Map<string, SodHeldItem[]> {
  const byKey = new Map<string, SodHeldItem[]>();
  for (const item of held) {
    const k = resourceKey(item.resource);
    (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(item);
  }
  return byKey;
}

function itemsPerSet(policy: SodPolicyRule, byKey: ReadonlyMap<string, SodHeldItem[]>): SodHeldItem[][] | null {
  const sets: SodHeldItem[][] = [];
  for (const set of policy.conflicting) {
    const items: SodHeldItem[] = [];
    for (const r of set) {
      const held = byKey.get(resourceKey(r));
      if (held) items.push(...held);
    }
    if (!items.length) return null;
    sets.push(items);
  }
  return sets;
}

const policyKeys = new WeakMap<SodPolicyRule, string[][]>();

function keysOf(policy: SodPolicyRule): string[][] {
  let keys = policyKeys.get(policy);
  if (!keys) policyKeys.set(policy, (keys = policy.conflicting.map((set) => set.map(resourceKey))));
  return keys;
}

/**
 * Whether the held items break the policy (no explanation: the fast question of a listing).
 * `everywhere`: the keys of the resources held in context All, when the caller has them —
 * then the common cases are answered without looking at the items.
 */
export function breaksPolicy(
  policy: SodPolicyRule,
  byKey: ReadonlyMap<string, SodHeldItem[]>,
  meet: (a: AccessContext, b: AccessContext) => boolean,
  everywhere?: ReadonlySet<string>,
): boolean {
  const keys = keysOf(policy);
  if (!keys.every((set) => set.some((k) => byKey.has(k)))) return false;
  if (everywhere && keys.every((set) => set.some((k) => everywhere.has(k)))) return true;
  const sets = itemsPerSet(policy, byKey);
  if (!sets) return false;
  // Most access is held in context All, which meets every context.
  if (sets.every((items) => items.some((i) => i.via.context.type === 'all'))) return true;
  return sets[0]!.some((item) => combinationWith(sets, 0, item, meet, false));
}

/** The policy's conflict with its explanation, or null when the held items do not break it. */
export function explainConflict(
  policy: SodPolicyRule,
  byKey: ReadonlyMap<string, SodHeldItem[]>,
  meet: (a: AccessContext, b: AccessContext) => boolean,
  options: { needProposed?: boolean } = {},
): SodFinding | null {
  const sets = itemsPerSet(policy, byKey);
  if (!sets) return null;
  const taking = sets.map((items, at) => items.filter((item) => combinationWith(sets, at, item, meet, options.needProposed === true)));
  if (taking.some((s) => s.length === 0)) return null;
  return { policy, sets: taking.map((items, set) => ({ set, held: groupByResource(items) })) };
}

/** Whether some choice of one item per set, including `fixed` for set `at`, has contexts that all meet. */
function combinationWith(sets: SodHeldItem[][], at: number, fixed: SodHeldItem, meet: (a: AccessContext, b: AccessContext) => boolean, needProposed: boolean): boolean {
  const chosen: SodHeldItem[] = [fixed];
  const order = sets.map((_, i) => i).filter((i) => i !== at);
  const search = (k: number): boolean => {
    if (k === order.length) return !needProposed || chosen.some((c) => c.via.proposed);
    for (const item of sets[order[k]!]!) {
      if (!chosen.every((c) => meet(c.via.context, item.via.context))) continue;
      chosen.push(item);
      if (search(k + 1)) return true;
      chosen.pop();
    }
    return false;
  };
  return search(0);
}

function groupByResource(items: SodHeldItem[]): SodSetHolding['held'] {
  const out = new Map<string, { resource: SodResource; via: SodVia[] }>();
  for (const item of items) {
    const k = resourceKey(item.resource);
    const entry = out.get(k) ?? out.set(k, { resource: item.resource, via: [] }).get(k)!;
    if (!entry.via.some((v) => v.assignmentId === item.via.assignmentId && v.proposed === item.via.proposed && v.context.type === item.via.context.type && v.context.id === item.via.context.id)) {
      entry.via.push(item.via);
    }
  }
  return [...out.values()];
}
