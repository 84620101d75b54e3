import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inclusionCycle, inclusionEdges, reachableRoles } from '../../src/domain/role-graph.ts';

const edges = (pairs: [string, string][]) => inclusionEdges(pairs.map(([role_id, included_role_id]) => ({ role_id, included_role_id })));

describe('inclusionCycle', () => {
  it('finds self-inclusion', () => {
    expect(inclusionCycle('a', ['a'], new Map())).toEqual(['a', 'a']);
  });

  it('finds the shortest cycle back to the role', () => {
    const g = edges([['b', 'a'], ['c', 'b'], ['c', 'a']]);
    expect(inclusionCycle('a', ['b'], g)).toEqual(['a', 'b', 'a']);
    expect(inclusionCycle('a', ['c'], g)).toEqual(['a', 'c', 'a']);
    expect(inclusionCycle('a', ['d'], g)).toBeNull();
  });

  it("ignores the role's own current inclusions (they are replaced)", () => {
    const g = edges([['a', 'b'], ['b', 'c']]);
    expect(inclusionCycle('a', ['c'], g)).toBeNull();
    expect(inclusionCycle('c', ['a'], g)).toEqual(['c', 'a', 'b', 'c']);
  });

  it('agrees with reachability on random graphs', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...nodes), fc.constantFrom(...nodes)), { maxLength: 12 }), fc.constantFrom(...nodes), fc.constantFrom(...nodes), (pairs, role, target) => {
        const g = edges(pairs.filter(([from]) => from !== role));
        const cycle = inclusionCycle(role, [target], g);
        const reaches = target === role || reachableRoles([target], g).has(role);
        expect(cycle !== null).toBe(reaches);
        if (cycle) {
          expect(cycle[0]).toBe(role);
          expect(cycle[cycle.length - 1]).toBe(role);
          for (let i = 1; i < cycle.length - 1; i += 1) expect(g.get(cycle[i]!) ?? []).toContain(cycle[i + 1]!);
        }
      }),
    );
  });
});

describe('reachableRoles', () => {
  it('includes the start roles and follows inclusions through cycles without looping', () => {
    const g = edges([['a', 'b'], ['b', 'c'], ['c', 'a'], ['d', 'e']]);
    expect([...reachableRoles(['a'], g)].sort()).toEqual(['a', 'b', 'c']);
    expect([...reachableRoles([], g)]).toEqual([]);
  });
});
