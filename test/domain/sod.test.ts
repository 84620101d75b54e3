/** The pure separation-of-duties rule: contexts that meet, and conflicts with their explanation. */
import { describe, expect, it } from 'vitest';
import type { AccessContext } from '../../src/domain/access.ts';
import { breaksPolicy, contextsMeet, findConflicts, heldByKey, type SodHeldItem, type SodPolicyRule } from '../../src/domain/sod.ts';

// Units: root > finance > payables; root > sales.
const PARENT: Record<string, string | null> = { root: null, finance: 'root', payables: 'finance', sales: 'root' };
const ancestors = (u: string) => {
  const out: string[] = [];
  for (let x: string | null = u; x !== null && x !== undefined; x = PARENT[x] ?? null) out.push(x);
  return out;
};
const meet = (a: AccessContext, b: AccessContext) => contextsMeet(a, b, ancestors);
const all: AccessContext = { type: 'all', id: null };
const unit = (id: string): AccessContext => ({ type: 'orgUnit', id });

const policy: SodPolicyRule = {
  id: 'p1',
  name: 'Vendor vs payment',
  mode: 'block',
  severity: 'high',
  conflicting: [[{ type: 'permission', id: 'vendor' }], [{ type: 'permission', id: 'pay' }, { type: 'role', id: 'treasurer' }]],
};
const item = (id: string, context: AccessContext, proposed = false, type: 'permission' | 'role' = 'permission'): SodHeldItem => ({
  resource: { type, id },
  via: { assignmentId: proposed ? null : `a-${id}-${context.id ?? 'all'}`, proposed, source: 'direct', assignee: { type: 'identity', id: 'i' }, assigned: { type, id }, context },
});

describe('contextsMeet', () => {
  it('All meets everything; units meet along one branch; identity and object contexts only themselves', () => {
    expect(meet(all, unit('sales'))).toBe(true);
    expect(meet(unit('payables'), unit('finance'))).toBe(true);
    expect(meet(unit('finance'), unit('payables'))).toBe(true);
    expect(meet(unit('sales'), unit('finance'))).toBe(false);
    expect(meet({ type: 'object', id: 'x' }, { type: 'object', id: 'x' })).toBe(true);
    expect(meet({ type: 'object', id: 'x' }, { type: 'object', id: 'y' })).toBe(false);
    expect(meet({ type: 'identity', id: 'x' }, unit('x'))).toBe(false);
  });
});

describe('findConflicts', () => {
  it('needs one held resource of every set, in contexts that meet', () => {
    expect(findConflicts([policy], [item('vendor', all)], meet)).toEqual([]);
    expect(findConflicts([policy], [item('vendor', unit('sales')), item('pay', unit('finance'))], meet)).toEqual([]);
    const found = findConflicts([policy], [item('vendor', unit('payables')), item('treasurer', unit('finance'), false, 'role')], meet);
    expect(found).toHaveLength(1);
    expect(found[0]!.sets.map((s) => s.held.map((h) => h.resource.id))).toEqual([['vendor'], ['treasurer']]);
  });

  it('explains with the items that take part only', () => {
    const held = [item('vendor', unit('sales')), item('pay', all), item('pay', unit('finance'))];
    const [found] = findConflicts([policy], held, meet);
    expect(found!.sets[1]!.held[0]!.via.map((v) => v.context)).toEqual([all]);
    expect(breaksPolicy(policy, heldByKey(held), meet)).toBe(true);
    expect(breaksPolicy(policy, heldByKey(held.slice(0, 1)), meet)).toBe(false);
  });

  it('with needProposed, only conflicts a proposed item takes part in', () => {
    const existing = [item('vendor', all), item('pay', all)];
    expect(findConflicts([policy], existing, meet, { needProposed: true })).toEqual([]);
    const [found] = findConflicts([policy], [...existing, item('treasurer', all, true, 'role')], meet, { needProposed: true });
    expect(found!.sets[1]!.held.map((h) => h.resource.id)).toEqual(['treasurer']);
    expect(found!.sets[0]!.held.map((h) => h.resource.id)).toEqual(['vendor']);
  });
});
