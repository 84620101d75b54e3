/**
 * Compact effective sets: the builder's merge of an identity's own pairs with its unit's
 * inherited set, the shared per-unit sets, and the memory bound of the identity cache.
 */
import { describe, expect, it } from 'vitest';
import { EffectiveBuilder, EMPTY_DATA, MAX_PERMISSION_SLOT, everywherePerms, findPerm, holdsEverywhere, permAt, permCount, viaRange } from '../../src/engine/effective.ts';
import { askContext, checkSlots, listAccess } from '../../src/engine/queries.ts';
import type { AssignmentRow } from '../../src/engine/index-rows.ts';
import { TenantIndex } from '../../src/engine/tenant-index.ts';

function contents(data: Int32Array): [number, number[]][] {
  const out: [number, number[]][] = [];
  for (let k = 0; k < permCount(data); k += 1) {
    const { from, to } = viaRange(data, k);
    out.push([permAt(data, k), Array.from(data.subarray(from, to))]);
  }
  return out;
}

describe('EffectiveBuilder', () => {
  it('sorts pairs by permission, groups assignments, drops repeats and merges the base after its own', () => {
    const b = new EffectiveBuilder();
    b.add(7, 30);
    b.add(2, 31);
    b.add(7, 10);
    b.add(2, 31);
    const base = b.build(EMPTY_DATA, (a) => a === 10);
    expect(contents(base)).toEqual([
      [2, [31]],
      [7, [10, 30]],
    ]);
    expect(holdsEverywhere(base, 7)).toBe(true);
    expect(holdsEverywhere(base, 2)).toBe(false);
    b.reset();
    b.add(7, 40);
    b.add(9, 41);
    b.add(1, 42);
    const merged = b.build(base, (a) => a === 10 || a === 42);
    expect(contents(merged)).toEqual([
      [1, [42]],
      [2, [31]],
      [7, [40, 10, 30]],
      [9, [41]],
    ]);
    expect([1, 2, 7, 9].filter((p) => holdsEverywhere(merged, p))).toEqual([1, 7]);
    expect(findPerm(merged, 8)).toBe(-1);
    expect(findPerm(merged, 9)).toBe(3);
    b.reset();
    expect(contents(b.build(EMPTY_DATA, () => false))).toEqual([]);
  });

  it('keeps pairs exact up to the largest slots and refuses larger ones', () => {
    const b = new EffectiveBuilder();
    b.add(MAX_PERMISSION_SLOT - 1, 2 ** 31 - 1);
    b.add(MAX_PERMISSION_SLOT - 1, 2 ** 31 - 2);
    b.add(MAX_PERMISSION_SLOT - 2, 0);
    expect(contents(b.build(EMPTY_DATA, () => false))).toEqual([
      [MAX_PERMISSION_SLOT - 2, [0]],
      [MAX_PERMISSION_SLOT - 1, [2 ** 31 - 2, 2 ** 31 - 1]],
    ]);
    expect(() => b.add(MAX_PERMISSION_SLOT, 0)).toThrow(RangeError);
    expect(() => b.add(0, 2 ** 31)).toThrow(RangeError);
  });

  it('answers context `all` through its fence for every size around the 16-slot blocks, merged or not', () => {
    let seed = 7;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % below;
    };
    const b = new EffectiveBuilder();
    for (const size of [0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 257]) {
      b.reset();
      const everywhere = new Set<number>();
      const held = new Set<number>();
      for (let k = 0; k < size * 2; k += 1) {
        const p = 1 + random(size * 4 + 2);
        const a = random(1000);
        b.add(p, a);
        held.add(p);
        if (a % 2 === 0) everywhere.add(p);
      }
      const base = b.build(EMPTY_DATA, (a) => a % 2 === 0);
      b.reset();
      for (let k = 0; k < size; k += 1) {
        const p = 1 + random(size * 4 + 2);
        b.add(p, 1001 + 2 * random(1000));
        held.add(p);
      }
      const merged = b.build(base, (a) => a % 2 === 0);
      const max = size * 4 + 4;
      for (let p = 0; p <= max; p += 1) {
        expect(holdsEverywhere(base, p), `base of ${size}, permission ${p}`).toBe(everywhere.has(p));
        expect(holdsEverywhere(merged, p), `merged of ${size}, permission ${p}`).toBe(everywhere.has(p));
        expect(findPerm(merged, p) >= 0).toBe(held.has(p));
      }
      expect(Array.from(everywherePerms(merged))).toEqual([...everywhere].sort((x, y) => x - y));
      expect(contents(merged).map(([p]) => p)).toEqual([...held].sort((x, y) => x - y));
    }
  });

  it('grows past its initial scratch space', () => {
    const b = new EffectiveBuilder();
    for (let p = 5000; p > 0; p -= 1) b.add(p, p % 3);
    const data = b.build(EMPTY_DATA, () => true);
    expect(permCount(data)).toBe(5000);
    expect(permAt(data, 0)).toBe(1);
    expect(permAt(data, 4999)).toBe(5000);
    expect(holdsEverywhere(data, 4321)).toBe(true);
  });
});

/** A small tenant: units root > mid > leaf, identities i0..i(n-1) in leaf, one role of two permissions. */
function smallIndex(identities: number, cacheBytes?: number): TenantIndex {
  const index = new TenantIndex('t', cacheBytes);
  index.applyUnit({ id: 'root', number: 1, name: 'root', parent_id: null, external_id: null });
  index.applyUnit({ id: 'mid', number: 2, name: 'mid', parent_id: 'root', external_id: null });
  index.applyUnit({ id: 'leaf', number: 3, name: 'leaf', parent_id: 'mid', external_id: null });
  index.applyApplication({ id: 'app', number: 1, name: 'App', kind: 'managed' });
  for (let p = 0; p < 4; p += 1) index.applyPermission({ id: `p${p}`, number: p, application_id: 'app', name: `perm${p}`, delegable: 1 });
  index.applyRole({ id: 'role', name: 'Role', permissionIds: ['p0', 'p1'], includedRoleIds: [] });
  for (let i = 0; i < identities; i += 1) {
    index.applyIdentity({ id: `i${i}`, number: i, subject: `s${i}`, username: null, email: null, display_name: null, status: 'active', org_unit_id: 'leaf' });
    index.applyAssignment(assignment(`own${i}`, 'identity', `i${i}`, 'permission', `p${(i % 2) + 2}`));
  }
  index.applyAssignment(assignment('toRoot', 'orgUnit', 'root', 'role', 'role'));
  return index;
}

function assignment(id: string, assigneeType: string, assignee: string, resourceType: string, resource: string, over: Partial<AssignmentRow> = {}): AssignmentRow {
  return {
    id,
    assignee_type: assigneeType,
    assignee_id: assignee,
    resource_type: resourceType,
    resource_id: resource,
    context_type: 'all',
    context_id: null,
    source: 'direct',
    state: 'active',
    valid_from: null,
    valid_to: null,
    delegated_from_id: null,
    delegator_id: null,
    rule_id: null,
    ...over,
  };
}

const NOW = Date.parse('2026-11-25T12:00:00.000Z');

function held(index: TenantIndex, identity: string): string[] {
  return listAccess(index, index.identities.find(identity), NOW, 'assigned').map((h) => h.permissionName);
}

describe('TenantIndex effective sets', () => {
  it('shares one inherited set among the members of a unit and recomputes it after a unit assignment changes', () => {
    const index = smallIndex(3);
    const leaf = index.units.find('leaf');
    const first = index.inherited(leaf, NOW);
    expect(index.inherited(leaf, NOW)).toBe(first);
    expect(held(index, 'i0')).toEqual(['perm0', 'perm1', 'perm2']);
    expect(held(index, 'i1')).toEqual(['perm0', 'perm1', 'perm3']);
    index.applyAssignment(assignment('toMid', 'orgUnit', 'mid', 'permission', 'p3', { valid_to: new Date(NOW + 1000).toISOString() }));
    const second = index.inherited(leaf, NOW);
    expect(second).not.toBe(first);
    expect(held(index, 'i0')).toEqual(['perm0', 'perm1', 'perm2', 'perm3']);
    // The unit assignment's validity ends: the inherited set holds only until then.
    expect(second.hi).toBe(NOW + 1000);
    expect(listAccess(index, index.identities.find('i0'), NOW + 1000, 'assigned').map((h) => h.permissionName)).toEqual(['perm0', 'perm1', 'perm2']);
    index.applyAssignment(assignment('toRoot', 'orgUnit', 'root', 'role', 'role', { state: 'paused' }));
    expect(held(index, 'i2')).toEqual(['perm2', 'perm3']);
  });

  it('keeps the identity cache within its memory bound and answers the same as an unbounded cache', () => {
    const n = 200;
    const bounded = smallIndex(n, 4096);
    const unbounded = smallIndex(n);
    const all = askContext(bounded, undefined);
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < n; i += 1) {
        for (let p = 0; p < 4; p += 1) {
          const b = checkSlots(bounded, bounded.identities.find(`i${i}`), bounded.perms.find(`p${p}`), all, NOW, 'assigned');
          const u = checkSlots(unbounded, unbounded.identities.find(`i${i}`), unbounded.perms.find(`p${p}`), all, NOW, 'assigned');
          expect(b).toBe(u);
        }
        expect(bounded.cachedBytes).toBeLessThanOrEqual(4096);
      }
    }
    expect(bounded.cachedBytes).toBeGreaterThan(0);
    // The unbounded cache holds every identity's set; the bounded one only the latest few.
    const cachedB = Array.from({ length: n }, (_, i) => bounded.identities.get(bounded.identities.find(`i${i}`)).cache !== null).filter(Boolean).length;
    const cachedU = Array.from({ length: n }, (_, i) => unbounded.identities.get(unbounded.identities.find(`i${i}`)).cache !== null).filter(Boolean).length;
    expect(cachedU).toBe(n);
    expect(cachedB).toBeLessThan(n / 4);
    expect(bounded.identities.get(bounded.identities.find(`i${n - 1}`)).cache).not.toBeNull();
  });

  it('answers a check from the by-slot cache only while the set is current: validity windows, pauses, status and epoch', () => {
    const index = smallIndex(2);
    const all = askContext(index, undefined);
    const i0 = index.identities.find('i0');
    const p3 = index.perms.find('p3');
    const p0 = index.perms.find('p0');
    const check = (p: number, at = NOW) => checkSlots(index, i0, p, all, at, 'assigned');
    index.applyAssignment(assignment('later', 'identity', 'i0', 'permission', 'p3', { valid_from: new Date(NOW + 1000).toISOString(), valid_to: new Date(NOW + 2000).toISOString() }));
    expect(check(p3)).toBe(false);
    expect(check(p3, NOW + 1000)).toBe(true);
    expect(check(p3, NOW + 1999)).toBe(true);
    expect(check(p3, NOW + 2000)).toBe(false);
    expect(check(p3, NOW)).toBe(false);
    expect(check(p3, NOW + 1500)).toBe(true);
    index.applyAssignment(assignment('later', 'identity', 'i0', 'permission', 'p3', { state: 'paused', valid_from: new Date(NOW + 1000).toISOString() }));
    expect(check(p3, NOW + 1500)).toBe(false);
    // Inherited through the unit (an epoch change), then the identity leaves: no longer held.
    expect(check(p0)).toBe(true);
    index.applyAssignment(assignment('toRoot', 'orgUnit', 'root', 'role', 'role', { state: 'paused' }));
    expect(check(p0)).toBe(false);
    index.applyAssignment(assignment('toRoot', 'orgUnit', 'root', 'role', 'role'));
    expect(check(p0)).toBe(true);
    index.applyIdentity({ id: 'i0', number: 0, subject: 's0', username: null, email: null, display_name: null, status: 'on_leave', org_unit_id: 'leaf' });
    expect(check(p0)).toBe(false);
    index.applyIdentity({ id: 'i0', number: 0, subject: 's0', username: null, email: null, display_name: null, status: 'active', org_unit_id: 'leaf' });
    expect(check(p0)).toBe(true);
    // A removed permission is held by no one, though no set names the removal.
    index.removePermission('p0');
    expect(check(p0)).toBe(false);
    expect(checkSlots(index, index.identities.find('i1'), p0, all, NOW, 'assigned')).toBe(false);
  });

  it('drops an identity from the cache accounting when it is invalidated', () => {
    const index = smallIndex(2);
    index.effective(index.identities.find('i0'), NOW);
    index.effective(index.identities.find('i1'), NOW);
    const both = index.cachedBytes;
    index.applyIdentity({ id: 'i0', number: 0, subject: 's0', username: null, email: null, display_name: null, status: 'on_leave', org_unit_id: 'leaf' });
    expect(index.cachedBytes).toBeLessThan(both);
    expect(held(index, 'i0')).toEqual([]);
    expect(index.cachedBytes).toBeLessThan(both);
  });

  it('lists in display order (application name, then permission name) and re-ranks after a rename', () => {
    const index = smallIndex(1);
    index.applyApplication({ id: 'app0', number: 2, name: 'Zeta', kind: 'managed' });
    index.applyPermission({ id: 'p9', number: 9, application_id: 'app0', name: 'aaa', delegable: 1 });
    index.applyAssignment(assignment('toP9', 'identity', 'i0', 'permission', 'p9'));
    expect(held(index, 'i0')).toEqual(['perm0', 'perm1', 'perm2', 'aaa']);
    index.applyPermission({ id: 'p0', number: 0, application_id: 'app', name: 'zzz', delegable: 1 });
    expect(held(index, 'i0')).toEqual(['perm1', 'perm2', 'zzz', 'aaa']);
    index.applyApplication({ id: 'app0', number: 2, name: 'Alpha', kind: 'managed' });
    expect(held(index, 'i0')).toEqual(['aaa', 'perm1', 'perm2', 'zzz']);
    expect(listAccess(index, index.identities.find('i0'), NOW, 'provisioned').map((h) => h.permissionName)).toEqual(['aaa', 'perm1', 'perm2', 'zzz']);
  });

  it('lists the assignments behind a permission by assignment id, whatever order they were loaded in', () => {
    const index = smallIndex(1);
    for (const id of ['m', 'z', 'a', 'q']) index.applyAssignment(assignment(id, 'identity', 'i0', 'permission', 'p0'));
    index.applyAssignment(assignment('b', 'orgUnit', 'mid', 'permission', 'p0'));
    const [p0] = listAccess(index, index.identities.find('i0'), NOW, 'assigned');
    expect(p0!.via.map((v) => (v.kind === 'assignment' ? v.assignmentId : ''))).toEqual(['a', 'b', 'm', 'q', 'toRoot', 'z']);
  });

  it('renders an assignment once and renders it anew after it changes', () => {
    const index = smallIndex(1);
    const [first] = listAccess(index, index.identities.find('i0'), NOW, 'assigned');
    const [again] = listAccess(index, index.identities.find('i0'), NOW, 'assigned');
    expect(again!.via[0]).toBe(first!.via[0]);
    expect(Object.isFrozen(first!.via[0])).toBe(true);
    index.applyAssignment(assignment('toRoot', 'orgUnit', 'root', 'role', 'role', { source: 'rule', rule_id: 'rule-1' }));
    const [after] = listAccess(index, index.identities.find('i0'), NOW, 'assigned');
    expect(after!.via[0]).toMatchObject({ assignmentId: 'toRoot', source: 'rule', ruleId: 'rule-1' });
  });
});
