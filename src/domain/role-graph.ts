/**
 * Role inclusion is a directed graph (a role includes roles); it must stay acyclic, or a
 * role would give itself. Pure functions over an adjacency map, so they are tested
 * without a database.
 *
 * ```ts
 * const edges = new Map([['b', ['a']]]);           // b includes a
 * inclusionCycle('a', ['b'], edges)                // ['a', 'b', 'a']: a → b → a
 * reachableRoles(['b'], edges)                     // Set { 'b', 'a' }
 * ```
 */

/** Role id → the ids of the roles it includes. */
export type InclusionEdges = ReadonlyMap<string, readonly string[]>;

/**
 * The cycle that letting `roleId` include `includedIds` would create, as the path
 * `[roleId, ..., roleId]`, or null when there is none. `edges` is the current graph;
 * `roleId`'s own current inclusions are ignored (they are being replaced).
 */
export function inclusionCycle(roleId: string, includedIds: readonly string[], edges: InclusionEdges): string[] | null {
  for (const start of includedIds) {
    if (start === roleId) return [roleId, roleId];
    // Breadth-first from the included role; the first path back to roleId is the shortest.
    const parent = new Map<string, string | null>([[start, null]]);
    const queue = [start];
    while (queue.length) {
      const node = queue.shift()!;
      for (const next of edges.get(node) ?? []) {
        if (next === roleId) {
          const path = [roleId];
          for (let n: string | null = node; n !== null; n = parent.get(n) ?? null) path.splice(1, 0, n);
          path.push(roleId);
          return path;
        }
        if (!parent.has(next)) {
          parent.set(next, node);
          queue.push(next);
        }
      }
    }
  }
  return null;
}

/** Every role reachable from `startIds` through inclusions, the start roles included. */
export function reachableRoles(startIds: Iterable<string>, edges: InclusionEdges): Set<string> {
  const seen = new Set<string>();
  const stack = [...startIds];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const next of edges.get(id) ?? []) if (!seen.has(next)) stack.push(next);
  }
  return seen;
}

/** Builds the adjacency map from `role_includes`-like rows. */
export function inclusionEdges(rows: readonly { role_id: string; included_role_id: string }[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const { role_id, included_role_id } of rows) {
    const list = edges.get(role_id);
    if (list) list.push(included_role_id);
    else edges.set(role_id, [included_role_id]);
  }
  return edges;
}
