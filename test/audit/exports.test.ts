import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, EXPORT_FORMATS, negotiateExportFormat, renderExport, renderExportBatches } from '../../src/domain/export-format.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { LEDGER_MODEL, seedModel, type Model } from '../support/model.ts';

let t: TestApp;
let m: Model;
beforeAll(async () => {
  t = await createTestApp();
  m = await seedModel(t.store, t.tenantId, LEDGER_MODEL);
  await t.access.syncNow(t.tenantId);
});
afterAll(async () => t.close());

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers: { ...t.auth, ...headers } });
const ndjson = (body: string) => body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Parses RFC 4180 CSV (quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  return rows;
}

describe('export formats', () => {
  it('makes CSV cells formula-safe and quotes what needs quoting', () => {
    expect(['=1+1', '+1', '-1', '@x', '\tx', '\rx', 'plain', 'a,b', 'say "hi"', null].map(csvCell)).toEqual([
      "'=1+1", "'+1", "'-1", "'@x", `"'\tx"`, `"'\rx"`, 'plain', '"a,b"', '"say ""hi"""', '',
    ]);
  });

  it('renders rows that arrive in batches exactly as rows that arrive one by one', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ n: i, text: i % 7 ? `row ${i}` : `=cmd ${i}, "quoted"` }));
    const options = { columns: [{ name: 'n', value: (r: (typeof rows)[number]) => r.n }, { name: 'text', value: (r: (typeof rows)[number]) => r.text }], toJson: (r: (typeof rows)[number]) => r };
    async function* one() {
      yield* rows;
    }
    async function* batches() {
      for (let i = 0; i < rows.length; i += 250) yield rows.slice(i, i + 250);
    }
    const collect = async (chunks: AsyncIterable<string>) => {
      let out = '';
      for await (const c of chunks) out += c;
      return out;
    };
    for (const format of EXPORT_FORMATS) {
      const expected = await collect(renderExport(one(), format, options));
      expect(await collect(renderExportBatches(batches(), format, options)), format).toBe(expected);
      expect(expected.length).toBeGreaterThan(64 * 1024);
    }
  });

  it('negotiates from format, then Accept', () => {
    expect(negotiateExportFormat(undefined, undefined)).toBe('ndjson');
    expect(negotiateExportFormat(undefined, 'text/csv')).toBe('csv');
    expect(negotiateExportFormat(undefined, 'application/xml, application/json;q=0.5')).toBe('json');
    expect(negotiateExportFormat('csv', 'application/json')).toBe('csv');
    expect(negotiateExportFormat(undefined, 'application/xml')).toBeNull();
  });
});

describe('GET /api/v1/exports/effective-permissions (assigned space)', () => {
  const expected = () => [
    { identityId: m.identities.alice, permission: 'approve', contextType: 'orgUnit', contextId: m.units.Finance, via: [m.assignments['alice-approve-delegated']] },
    { identityId: m.identities.alice, permission: 'read', contextType: 'all', contextId: null, via: [m.assignments['acme-accountant']] },
    { identityId: m.identities.alice, permission: 'write', contextType: 'all', contextId: null, via: [m.assignments['acme-accountant']] },
    { identityId: m.identities.bob, permission: '=SUM(A1)', contextType: 'all', contextId: null, via: [m.assignments['bob-formula']] },
    { identityId: m.identities.bob, permission: 'approve', contextType: 'orgUnit', contextId: m.units.Finance, via: [m.assignments['bob-approve']] },
  ];
  const sortRows = <R extends { identityId?: unknown; permission?: unknown }>(rows: R[]) => [...rows].sort((a, b) => `${String(a.identityId)}${String(a.permission)}`.localeCompare(`${String(b.identityId)}${String(b.permission)}`));

  it('streams NDJSON rows that follow the rules of effective access', async () => {
    const res = await get(`/api/v1/exports/effective-permissions?applicationId=${m.applicationId}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const rows = ndjson(res.body).map(({ identityId, permission, contextType, contextId, via }) => ({ identityId, permission, contextType, contextId, via }));
    expect(sortRows(rows)).toEqual(sortRows(expected()));
  });

  it('renders the same rows as formula-safe CSV and as a JSON array', async () => {
    const csv = await get(`/api/v1/exports/effective-permissions?applicationId=${m.applicationId}`, { accept: 'text/csv' });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...lines] = parseCsv(csv.body);
    expect(header).toEqual(['identityId', 'subject', 'username', 'email', 'displayName', 'unitPath', 'applicationId', 'application', 'permissionId', 'permission', 'contextType', 'contextId', 'contextName', 'via', 'viaNames']);
    expect(lines).toHaveLength(expected().length);
    expect(lines.map((l) => l[header!.indexOf('permission')])).toContain("'=SUM(A1)");

    const json = await get(`/api/v1/exports/effective-permissions?applicationId=${m.applicationId}&format=json`);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(json.body)).toHaveLength(expected().length);
  });

  it('filters by unit subtree and identity; refuses unknown filter ids before streaming', async () => {
    const unit = ndjson((await get(`/api/v1/exports/effective-permissions?orgUnitId=${m.units.Acme}&applicationId=${m.applicationId}`)).body);
    expect(new Set(unit.map((r) => r.identityId))).toEqual(new Set([m.identities.alice]));
    const bob = ndjson((await get(`/api/v1/exports/effective-permissions?identityId=${m.identities.bob}`)).body);
    expect(bob.map((r) => r.permission).sort()).toEqual(['=SUM(A1)', 'approve']);
    for (const filter of ['applicationId', 'orgUnitId', 'identityId']) {
      const res = await get(`/api/v1/exports/effective-permissions?${filter}=no-such-id`);
      expect(res.statusCode, filter).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await get('/api/v1/exports/effective-permissions', { accept: 'application/xml' })).statusCode).toBe(406);
  });
});

describe('GET /api/v1/exports/effective-permissions (provisioned space)', () => {
  it('exports what a managed application provisions: the counting assignments', async () => {
    const assigned = ndjson((await get(`/api/v1/exports/effective-permissions?applicationId=${m.applicationId}`)).body);
    const res = await get(`/api/v1/exports/effective-permissions?applicationId=${m.applicationId}&space=provisioned`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toContain('effective-permissions-provisioned.ndjson');
    expect(Number(res.headers['x-grantory-revision'])).toBeGreaterThan(0);
    expect(ndjson(res.body)).toEqual(assigned);
  });
});

describe('GET /api/v1/exports/permission-configuration', () => {
  it('exports applications, permissions and roles with their permissions and included roles', async () => {
    const records = ndjson((await get('/api/v1/exports/permission-configuration')).body);
    const kinds = new Set(records.map((r) => r.recordType));
    expect(kinds).toEqual(new Set(['application', 'permission', 'role']));
    expect(records.find((r) => r.recordType === 'application' && r.name === 'ledger')).toMatchObject({ id: m.applicationId, kind: 'managed', archived: false });
    expect(records.filter((r) => r.recordType === 'permission' && r.applicationId === m.applicationId)).toHaveLength(4);
    expect(records.find((r) => r.recordType === 'role' && r.name === 'Accountant')).toMatchObject({ permissionIds: [m.permissions.read], includedRoleIds: [m.roles.Clerk] });
    const json = JSON.parse((await get('/api/v1/exports/permission-configuration?format=json')).body) as { records: unknown[] };
    expect(json.records).toHaveLength(records.length);
    expect((await get('/api/v1/exports/permission-configuration?format=csv')).statusCode).toBe(406);
  });
});

describe('GET /api/v1/exports/permission-configuration (assignment rules)', () => {
  it("exports the tenant's assignment rules column by column, JSON columns parsed, without the tenant", async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/assignment-rules',
      headers: t.auth,
      payload: { name: 'Ledger readers', condition: { attributes: [{ name: 'department', equals: 'finance' }] }, resources: [{ type: 'permission', id: m.permissions.read }] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json() as { id: string };
    try {
      const rules = ndjson((await get('/api/v1/exports/permission-configuration')).body).filter((r) => r.recordType === 'assignmentRule');
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ id: rule.id, name: 'Ledger readers', condition: { attributes: [{ name: 'department', equals: 'finance' }] } });
      expect(rules[0]).not.toHaveProperty('tenantId');
    } finally {
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/assignment-rules/${rule.id}`, headers: t.auth })).statusCode).toBe(200);
    }
  });
});

describe('GET /api/v1/exports/audit-events', () => {
  it('exports a time range with the checkpoints that cover it, in every format', async () => {
    const cp = await t.app.inject({ method: 'POST', url: '/api/v1/audit-checkpoints', headers: t.auth });
    expect(cp.statusCode).toBe(201);
    const list = (await get('/api/v1/audit-events?limit=1000')).json() as { items: { seq: number; time: string; id: string }[] };
    const pivot = list.items[1]!;

    const lines = ndjson((await get(`/api/v1/exports/audit-events?from=${encodeURIComponent(pivot.time)}`)).body);
    const events = lines.filter((l) => l.recordType === 'event');
    expect(events.length).toBe(list.items.filter((e) => e.time >= pivot.time).length);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq as number)].sort((a, b) => a - b));
    const checkpoints = lines.filter((l) => l.recordType === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(checkpoints[0]).toMatchObject({ seq: (cp.json() as { seq: number }).seq, publicKey: expect.stringMatching(/PUBLIC KEY/) });
    expect(lines.indexOf(checkpoints[0]!)).toBeGreaterThan(lines.indexOf(events[events.length - 1]!));

    const json = JSON.parse((await get('/api/v1/exports/audit-events?format=json')).body) as { events: { id: string }[]; checkpoints: unknown[]; publicKeys: unknown[] };
    expect(json.events.map((e) => e.id)).toEqual(expect.arrayContaining(list.items.map((e) => e.id)));
    expect(json.checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(json.publicKeys).toHaveLength(1);

    const csv = parseCsv((await get('/api/v1/exports/audit-events?format=csv&action=test.seed')).body);
    expect(csv[0]![0]).toBe('seq');
    expect(csv).toHaveLength(2);
    expect(JSON.parse(csv[1]![csv[0]!.indexOf('after')]!)).toEqual({ identities: 3, units: 2 });
  });
});
