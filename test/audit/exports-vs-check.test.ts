/**
 * Two paths over the same data: the effective-permission export and the check API. For
 * random models (units, identities of every status, a managed and a connected application,
 * roles, assignments in every state, window, context and delegation, accounts with grants),
 * every exported row is a positive check in its own context, and every check (identity x
 * permission x context) is positive exactly when an exported row covers that context — in
 * the assigned and in the provisioned space.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessSpace } from '../../src/domain/access.ts';
import type { WriteTx } from '../../src/store/store.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, TEST_BACKEND, type TestApp } from '../support/harness.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const HOUR = 3_600_000;
const iso = (h: number) => new Date(NOW + h * HOUR).toISOString();

const N_UNITS = 4;
const N_IDENTITIES = 5;
const N_PERMS = 3;
const N_ROLES = 2;
const OBJECTS = ['obj-1', 'obj-2'];

const contextArb = fc.record({ type: fc.constantFrom('all', 'all', 'orgUnit', 'identity', 'object'), ref: fc.nat() });

const modelArb = fc.record({
  parents: fc.array(fc.nat(), { minLength: N_UNITS, maxLength: N_UNITS }),
  identities: fc.array(fc.record({ status: fc.constantFrom('active', 'active', 'active', 'on_leave', 'terminated'), unit: fc.option(fc.nat(), { nil: null }) }), {
    minLength: N_IDENTITIES,
    maxLength: N_IDENTITIES,
  }),
  roles: fc.array(fc.record({ perms: fc.array(fc.nat(), { maxLength: 3 }), include: fc.option(fc.nat(), { nil: null }) }), { minLength: N_ROLES, maxLength: N_ROLES }),
  assignments: fc.array(
    fc.record({
      toUnit: fc.boolean(),
      assignee: fc.nat(),
      toRole: fc.boolean(),
      resource: fc.nat(),
      context: contextArb,
      state: fc.constantFrom('active', 'active', 'active', 'paused', 'revoked'),
      window: fc.constantFrom('open', 'open', 'current', 'future', 'past'),
      delegateFrom: fc.option(fc.nat(), { nil: null, freq: 4 }),
    }),
    { minLength: 1, maxLength: 14 },
  ),
  accounts: fc.array(
    fc.record({
      identity: fc.option(fc.nat(), { nil: null, freq: 5 }),
      status: fc.constantFrom('active', 'active', 'disabled'),
      grants: fc.array(fc.record({ perm: fc.nat(), context: contextArb }), { maxLength: 3 }),
    }),
    { maxLength: 5 },
  ),
});
type ModelSpec = typeof modelArb extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  units: string[];
  parents: Map<string, string | null>;
  identities: string[];
  permissions: string[];
}

type Ctx = { type: string; id: string | null };

function contextOf(c: { type: string; ref: number }, b: { units: string[]; identities: string[] }): Ctx {
  if (c.type === 'orgUnit') return { type: 'orgUnit', id: b.units[c.ref % b.units.length]! };
  if (c.type === 'identity') return { type: 'identity', id: b.identities[c.ref % b.identities.length]! };
  if (c.type === 'object') return { type: 'object', id: OBJECTS[c.ref % OBJECTS.length]! };
  return { type: 'all', id: null };
}

async function seed(t: TestApp, spec: ModelSpec): Promise<Built> {
  const fx = new AccessFixtures(t.store, t.tenantId);
  const units = Array.from({ length: N_UNITS }, () => randomUUID());
  const identities = Array.from({ length: N_IDENTITIES }, () => randomUUID());
  const parents = new Map<string, string | null>();
  const managed = Array.from({ length: N_PERMS }, () => randomUUID());
  const connected = Array.from({ length: N_PERMS }, () => randomUUID());
  const permissions = [...managed, ...connected];
  const roles = Array.from({ length: N_ROLES }, () => randomUUID());
  await fx.batch(async (tx: WriteTx) => {
    const managedApp = await fx.application({ name: 'managed app', kind: 'managed' }, tx);
    const connectedApp = await fx.application({ name: 'connected app', kind: 'connected' }, tx);
    for (let i = 0; i < N_UNITS; i += 1) {
      const p = spec.parents[i]! % (i + 1);
      const parentId = p === i ? null : units[p]!;
      parents.set(units[i]!, parentId);
      await fx.unit({ id: units[i]!, parentId, name: `=unit ${i}` }, tx);
    }
    for (let i = 0; i < N_IDENTITIES; i += 1) {
      const s = spec.identities[i]!;
      await fx.identity({ id: identities[i]!, status: s.status, unitId: s.unit === null ? null : units[s.unit % N_UNITS]!, email: `+user${i}@example.com` }, tx);
    }
    for (let i = 0; i < N_PERMS; i += 1) {
      await fx.permission({ id: managed[i]!, applicationId: managedApp, name: `@m${i}`, delegable: true }, tx);
      await fx.permission({ id: connected[i]!, applicationId: connectedApp, name: `c${i}`, delegable: true }, tx);
    }
    for (const id of roles) await fx.role({ id }, tx);
    for (let i = 0; i < N_ROLES; i += 1) {
      const r = spec.roles[i]!;
      const include = r.include === null || r.include % N_ROLES === i ? [] : [roles[r.include % N_ROLES]!];
      await fx.role({ id: roles[i]!, permissionIds: r.perms.map((p) => permissions[p % permissions.length]!), includedRoleIds: include }, tx);
    }
    const made: { id: string; assigneeType: string; assigneeId: string; resourceType: string; resourceId: string }[] = [];
    for (const a of spec.assignments) {
      const source = a.delegateFrom === null || !made.length ? null : made[a.delegateFrom % made.length]!;
      const delegated = source !== null && source.assigneeType === 'identity';
      const context = contextOf(a.context, { units, identities });
      const window = { open: [null, null], current: [iso(-1), iso(1)], future: [iso(1), iso(3)], past: [iso(-3), iso(-1)] }[a.window];
      const row = {
        id: randomUUID(),
        assigneeType: delegated || !a.toUnit ? ('identity' as const) : ('orgUnit' as const),
        assigneeId: delegated || !a.toUnit ? identities[a.assignee % N_IDENTITIES]! : units[a.assignee % N_UNITS]!,
        resourceType: delegated ? (source.resourceType as 'permission' | 'role') : a.toRole ? ('role' as const) : ('permission' as const),
        resourceId: delegated ? source.resourceId : a.toRole ? roles[a.resource % N_ROLES]! : permissions[a.resource % permissions.length]!,
      };
      await fx.assignment(
        {
          ...row,
          contextType: context.type,
          contextId: context.id,
          state: a.state,
          validFrom: window[0] ?? null,
          validTo: window[1] ?? null,
          delegatedFromId: delegated ? source.id : null,
          delegatorId: delegated ? source.assigneeId : null,
        },
        tx,
      );
      made.push(row);
    }
    for (const acc of spec.accounts) {
      const id = randomUUID();
      const stamps = { created_at: tx.now, updated_at: tx.now, version: 1 };
      await tx.db
        .insertInto('accounts')
        .values({
          id,
          tenant_id: t.tenantId,
          application_id: connectedApp,
          name: `acct-${id.slice(0, 8)}`,
          identity_id: acc.identity === null ? null : identities[acc.identity % N_IDENTITIES]!,
          status: acc.status,
          observed_at: tx.now,
          import_id: null,
          ...stamps,
        })
        .execute();
      for (const g of acc.grants) {
        const context = contextOf(g.context, { units, identities });
        await tx.db
          .insertInto('grants')
          .values({ id: randomUUID(), tenant_id: t.tenantId, account_id: id, permission_id: connected[g.perm % N_PERMS]!, context_type: context.type, context_id: context.id, observed_at: tx.now, import_id: null })
          .execute();
      }
      tx.change('account', id, 'create');
    }
  });
  return { units, parents, identities, permissions };
}

/** Rule 5, from the model (not the engine): whether a right held in `held` covers `asked`. */
function covers(b: Built, held: Ctx, asked: Ctx): boolean {
  if (held.type === 'all') return true;
  if (held.type !== asked.type) return false;
  if (held.id === asked.id) return true;
  if (held.type !== 'orgUnit') return false;
  for (let u = asked.id === null ? null : (b.parents.get(asked.id) ?? null); u !== null; u = b.parents.get(u) ?? null) if (u === held.id) return true;
  return false;
}

interface Row {
  identityId: string;
  permissionId: string;
  permission: string;
  contextType: string;
  contextId: string | null;
  via: string[];
}

async function exported(t: TestApp, space: AccessSpace, format: 'ndjson' | 'csv'): Promise<Row[]> {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/exports/effective-permissions?space=${space}&format=${format}`, headers: t.auth });
  expect(res.statusCode).toBe(200);
  if (format === 'ndjson') {
    return res.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row);
  }
  // CSV, from the header: none of these cells needs quoting (ids, names without commas).
  const [header, ...lines] = res.body.trimEnd().split('\r\n').map((l) => l.split(','));
  const col = (name: string) => header!.indexOf(name);
  return lines.map((c) => ({
    identityId: c[col('identityId')]!,
    permissionId: c[col('permissionId')]!,
    permission: c[col('permission')]!,
    contextType: c[col('contextType')]!,
    contextId: c[col('contextId')] || null,
    via: c[col('via')]!.split(' '),
  }));
}

async function checks(t: TestApp, items: { identity: string; permission: string; context: Ctx; space: AccessSpace }[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < items.length; i += 1000) {
    const batch = items.slice(i, i + 1000).map((c) => ({ identity: c.identity, permission: c.permission, space: c.space, context: c.context.type === 'all' ? { type: 'all' as const } : c.context }));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/check/batch', headers: t.auth, payload: { checks: batch } });
    expect(res.statusCode, res.body).toBe(200);
    out.push(...(res.json() as { results: { allowed: boolean }[] }).results.map((r) => r.allowed));
  }
  return out;
}

describe(`effective-permission export vs the check API (${TEST_BACKEND})`, () => {
  it('exports exactly the positive checks of random models, in both spaces', { timeout: 300_000 }, async () => {
    let exportedRows = 0;
    let positive = 0;
    await fc.assert(
      fc.asyncProperty(modelArb, async (spec) => {
        const t = await createTestApp({ now: () => new Date(NOW) });
        try {
          const b = await seed(t, spec);
          await t.access.syncNow(t.tenantId);
          const { db } = t.store.read(t.tenantId);
          // Every identity and permission of the tenant, built-in ones included.
          const identities = (await db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).execute()).map((r) => r.id);
          const permissions = (await db.selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).execute()).map((r) => r.id);
          const contexts: Ctx[] = [{ type: 'all', id: null }, ...b.units.map((id) => ({ type: 'orgUnit', id })), ...b.identities.map((id) => ({ type: 'identity', id })), ...OBJECTS.map((id) => ({ type: 'object', id }))];
          for (const space of ['assigned', 'provisioned'] as const) {
            const rows = await exported(t, space, 'ndjson');
            // The same rows as CSV, a name starting with a formula character escaped with `'`.
            const formulaSafe = (text: string) => (/^[=+\-@]/.test(text) ? `'${text}` : text);
            expect(await exported(t, space, 'csv')).toEqual(
              rows.map(({ identityId, permissionId, permission, contextType, contextId, via }) => ({ identityId, permissionId, permission: formulaSafe(permission), contextType, contextId, via })),
            );
            // One row per identity, permission and context.
            const keys = rows.map((r) => `${r.identityId}|${r.permissionId}|${r.contextType}|${r.contextId ?? ''}`);
            expect(new Set(keys).size).toBe(keys.length);
            // Every exported row is a positive check in its own context.
            const own = await checks(t, rows.map((r) => ({ identity: r.identityId, permission: r.permissionId, context: { type: r.contextType, id: r.contextId }, space })));
            expect(own.every(Boolean), JSON.stringify(rows.filter((_r, i) => !own[i]))).toBe(true);
            // Every check is positive exactly when an exported row covers its context.
            const asked = identities.flatMap((identity) => permissions.flatMap((permission) => contexts.map((context) => ({ identity, permission, context, space }))));
            const answers = await checks(t, asked);
            asked.forEach((c, i) => {
              const byExport = rows.some((r) => r.identityId === c.identity && r.permissionId === c.permission && covers(b, { type: r.contextType, id: r.contextId }, c.context));
              if (byExport !== answers[i]) throw new Error(`${space}: check(${c.identity}, ${c.permission}, ${JSON.stringify(c.context)}) = ${answers[i]}, export says ${byExport}\n${JSON.stringify(spec)}`);
            });
            exportedRows += rows.length;
            positive += answers.filter(Boolean).length;
          }
        } finally {
          await t.close();
        }
      }),
      { numRuns: TEST_BACKEND === 'postgres' ? 6 : 15, endOnFailure: true },
    );
    // The generated models are not all empty: the comparison saw rows and positive checks.
    expect(exportedRows).toBeGreaterThan(0);
    expect(positive).toBeGreaterThan(0);
  });
});
