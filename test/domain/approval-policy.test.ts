/** The pure rules of approval policies: validation, which policy applies, auto-approval. */
import { describe, expect, it } from 'vitest';
import { autoApproves, escalationCycle, mostSpecificPolicy, policyForEventType, policyProblems, type AppliesTo } from '../../src/domain/approval-policy.ts';

const step = (name: string, extra: Record<string, unknown> = {}) => ({ name, approver: 'manager', ...extra });
const fields = (draft: Parameters<typeof policyProblems>[0]) => policyProblems(draft).map((e) => e.field);

describe('policyProblems', () => {
  it('accepts a valid policy', () => {
    expect(policyProblems({ name: 'p', appliesTo: {}, steps: [step('a'), { name: 'b', approver: 'identity', id: 'x', quorum: 2, dueDays: 3, escalateTo: { step: 'a' } }], autoApprove: 'low' })).toEqual([]);
  });
  it('names each invalid field', () => {
    expect(fields({ name: 'p', appliesTo: {}, steps: [], autoApprove: null })).toEqual(['steps']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [{ name: 'a', approver: 'boss' }], autoApprove: null })).toEqual(['steps[0].approver']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [{ name: 'a', approver: 'role_holders' }], autoApprove: null })).toEqual(['steps[0].id']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [{ name: 'a', approver: 'manager', id: 'x' }], autoApprove: null })).toEqual(['steps[0].id']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [step('a', { quorum: 0 })], autoApprove: null })).toEqual(['steps[0].quorum']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [step('a'), step('a')], autoApprove: null })).toEqual(['steps[1].name']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [step('a', { escalateTo: { step: 'zz' } })], autoApprove: null })).toEqual(['steps[0].escalateTo.step']);
    expect(fields({ name: 'p', appliesTo: {}, steps: [step('a')], autoApprove: 'tiny' })).toEqual(['autoApprove']);
    expect(fields({ name: 'p', appliesTo: { personnelEventTypes: ['onboard'], applicationIds: ['x'] }, steps: [step('a')], autoApprove: null })).toEqual(['appliesTo.personnelEventTypes']);
  });
  it('finds escalation cycles, also through several steps', () => {
    expect(escalationCycle([step('a', { escalateTo: { step: 'b' } }), step('b', { escalateTo: { step: 'c' } }), step('c', { escalateTo: { step: 'a' } })])).toEqual({ at: 0, names: ['a', 'b', 'c', 'a'] });
    expect(escalationCycle([step('a', { escalateTo: { step: 'b' } }), step('b', { escalateTo: { identityId: 'x' } })])).toBeNull();
    expect(fields({ name: 'p', appliesTo: {}, steps: [step('a', { escalateTo: { step: 'b' } }), step('b', { escalateTo: { step: 'a' } })], autoApprove: null })).toEqual(['steps[0].escalateTo']);
  });
});

describe('mostSpecificPolicy', () => {
  const policy = (name: string, appliesTo: AppliesTo) => ({ id: name, name, appliesTo });
  const all = [
    policy('catch-all', {}),
    policy('high risk', { minRisk: 'high' }),
    policy('app', { applicationIds: ['app'] }),
    policy('app, critical', { applicationIds: ['app'], minRisk: 'critical' }),
    policy('role', { roleIds: ['role'] }),
    policy('permission', { permissionIds: ['perm'] }),
    policy('events', { personnelEventTypes: ['onboard'] }),
  ];
  const item = (type: 'permission' | 'role', id: string, applicationId: string | null, risk: number) => ({ type, id, applicationId, risk });
  it('prefers permission > role > application > minRisk only > catch-all', () => {
    expect(mostSpecificPolicy(all, [item('permission', 'perm', 'app', 1)])?.name).toBe('permission');
    expect(mostSpecificPolicy(all, [item('role', 'role', 'app', 1)])?.name).toBe('role');
    expect(mostSpecificPolicy(all, [item('permission', 'other', 'app', 1)])?.name).toBe('app');
    expect(mostSpecificPolicy(all, [item('permission', 'other', 'app', 4)])?.name).toBe('app, critical');
    expect(mostSpecificPolicy(all, [item('permission', 'other', 'elsewhere', 3)])?.name).toBe('high risk');
    expect(mostSpecificPolicy(all, [item('permission', 'other', 'elsewhere', 1)])?.name).toBe('catch-all');
    expect(mostSpecificPolicy(all.filter((p) => p.name !== 'catch-all'), [item('permission', 'other', 'elsewhere', 1)])).toBeNull();
  });
  it('leaves policies for personnel events to personnel events', () => {
    expect(policyForEventType(all, 'onboard')?.name).toBe('events');
    expect(policyForEventType(all, 'offboard')).toBeNull();
  });
  it('auto-approves only items at or below the risk', () => {
    expect(autoApproves('medium', [item('permission', 'p', null, 2)])).toBe(true);
    expect(autoApproves('medium', [item('permission', 'p', null, 3)])).toBe(false);
    expect(autoApproves(null, [item('permission', 'p', null, 1)])).toBe(false);
  });
});
