/**
 * Access requests and personnel events on a seeded dataset. Usage:
 *
 *   node --expose-gc --import tsx bench/workflows.ts S|M|L [sqlite|postgres] [--requests-only | --personnel-only]
 *     [--seeded 100000] [--burst 10000] [--connections 16] [--offboard 10000] [--sequential 1000]
 *
 * Loads the dataset (bench/dataset.ts), builds the access index, creates 50 separation-of-duties
 * policies (bench/common.ts) and 21 approval policies (20 over ten applications each, one
 * named approver per policy; one for the burst's permission). Then:
 *
 * Requests
 * 1. Seeds `--seeded` access requests (half completed, half pending with an open task), the
 *    pending ones' tasks spread over 100 approvers except one who gets exactly 1,000.
 * 2. Submit: 200 self-service requests (the requester an identity without Grantory rights, so
 *    the rights guard runs too) for a role some SoD policy names, and 200 for a permission
 *    none names; `createAccessRequest` end to end (policy resolution, SoD check, steps, read back).
 *    Accepted and refused calls (a block policy, already held) are timed apart (`refusedMs`).
 * 3. Inbox: `approvalInbox` of the approver with 1,000 open tasks, p50 of 50.
 * 4. Burst: `--burst` requests for one permission (one per identity), then every one approved
 *    through HTTP by its approver, each approval sent twice at once (on PostgreSQL once to each
 *    of two server instances on two stores: the two-node count), over a bounded keep-alive pool
 *    of `--connections` per node; counts 200s, 409s and transport errors, the completed
 *    requests, and the `request` assignments per identity (exactly one each: none lost or doubled).
 *
 * Personnel events
 * 5. Preview of a role transition (unit change) for an identity given roles until it holds
 *    about 500 permissions: p50 of 20 (`previewPersonnelEvent`).
 * 6. `--sequential` offboardings due at one minute, run one job per write (`batchSize: 1`,
 *    how the scheduler ran before batches), then `--offboard` offboardings due at another
 *    minute run by the scheduler's default batches: wall time until all are applied. On
 *    PostgreSQL the second set is run by two runners on two stores (two nodes) at once.
 *    Counts, per event, the `Deprovision completed` entries and `identity.update` audit events.
 *
 * Prints a JSON summary (load average at start and end) and writes bench/results/workflows-*.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/api/app.ts';
import { RIGHTS } from '../src/domain/rights.ts';
import { createApiKey } from '../src/services/credentials/index.ts';
import { createServices } from '../src/services/index.ts';
import { runDueJobs, systemActor, type Actor } from '../src/services/kernel/index.ts';
import { createPersonnelEvent, previewPersonnelEvent } from '../src/services/personnel/index.ts';
import { createAccessRequest } from '../src/services/requests/index.ts';
import { approvalInbox, createApprovalPolicy } from '../src/services/workflow/index.ts';
import { openStore } from '../src/store/open.ts';
import type { Store, WriteMeta } from '../src/store/store.ts';
import { loadAverage, loadBenchTenant, machine, openBenchStore, percentiles, seedSodPolicies, timed } from './common.ts';
import { idOf, rng, SIZES } from './dataset.ts';

const size = (process.argv[2] ?? 'S') as keyof typeof SIZES;
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const flag = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SEEDED = flag('--seeded', 100_000);
const BURST = flag('--burst', 10_000);
const OFFBOARD = flag('--offboard', 10_000);
const SEQUENTIAL = flag('--sequential', 1_000);
const CONNECTIONS = flag('--connections', 16);
const doRequests = !process.argv.includes('--personnel-only');
const doPersonnel = !process.argv.includes('--requests-only');
const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'bench loader' };
const round = (ms: number) => Math.round(ms * 10) / 10;

/** An identity acting for itself with the given rights (none: a self-service requester). */
function personActor(tenantId: string, identityId: string, rights: readonly string[] = []): Actor {
  const base = systemActor(tenantId);
  return { ...base, caller: { ...base.caller, kind: 'identity', id: identityId, name: identityId, identityId, rights: new Set(rights) as Actor['caller']['rights'] } };
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  const opened = await openBenchStore(backend, 'workflows', { dataset: size });
  const { store } = opened;
  const summary: Record<string, unknown> = { bench: 'workflows', size, backend, startedAt, machine: machine(), loadAverage: { start: loadAtStart } };
  const phaseLoad: Record<string, number[]> = {};
  try {
    const { tenantId, secrets, d, access, loadSeconds, indexSeconds } = await loadBenchTenant(store, size, opened.cache);
    const s = SIZES[size];
    summary.datasetLoadSeconds = Math.round(loadSeconds);
    summary.indexBuildSeconds = Math.round(indexSeconds * 10) / 10;
    let t0 = performance.now();
    const services = createServices({ store, now: () => new Date(), secrets, access });
    const deps = services.deps;
    const system = systemActor(tenantId);
    await seedSodPolicies(deps, system, s, 50);
    const policyRows = await store.read(tenantId).db.selectFrom('sod_policies').select('conflicting').execute();
    const named = new Set<string>();
    for (const p of policyRows) for (const set of JSON.parse(p.conflicting) as { type: string; id: string }[][]) for (const x of set) named.add(`${x.type}:${x.id}`);
    const active = (i: number) => i % 50 !== 49;

    if (doRequests) {
      // Approval policies: 20 over ten applications each, one named approver each (identities 100..119).
      const groups = Math.min(20, s.applications);
      for (let g = 0; g < groups; g += 1) {
        const apps = Array.from({ length: s.applications }, (_, a) => a).filter((a) => a % groups === g).map(idOf.app);
        await createApprovalPolicy(deps, system, { name: `apps ${g}`, appliesTo: { applicationIds: apps }, steps: [{ name: 'Owner', approver: 'identity', id: idOf.identity(100 + g) }] });
      }
      const burstApprover = idOf.identity(2);
      let burstPerm = 7;
      while (named.has(`permission:${idOf.perm(burstPerm)}`)) burstPerm += 1;
      await createApprovalPolicy(deps, system, { name: 'burst', appliesTo: { permissionIds: [idOf.perm(burstPerm)] }, steps: [{ name: 'Approver', approver: 'identity', id: burstApprover }] });

      // 1. Seeded requests.
      const inboxOwner = idOf.identity(1);
      t0 = performance.now();
      const r = rng(11);
      const int = (n: number) => Math.floor(r() * n);
      const CHUNK = 5_000;
      for (let start = 0; start < SEEDED; start += CHUNK) {
        await store.write(tenantId, META, async (tx) => {
          const requests = [];
          const steps = [];
          const tasks = [];
          for (let k = start; k < Math.min(SEEDED, start + CHUNK); k += 1) {
            const closed = k % 2 === 0;
            const openIndex = (k - 1) / 2;
            const target = idOf.identity(int(s.identities));
            const perm = int(s.permissions);
            const id = randomUUID();
            const created = new Date(Date.parse('2026-06-01T00:00:00Z') + k * 60_000).toISOString();
            requests.push({
              id, tenant_id: tenantId, number: k + 1, action: 'add', target_type: 'identity', target_id: target, resource_type: 'permission', resource_id: idOf.perm(perm),
              application_id: idOf.app(d.permApp[perm]!), context_type: 'all', context_id: null, valid_from: null, valid_to: null, justification: 'seeded', requester_id: target,
              requester_name: target, assignment_id: null, status: closed ? 'completed' : 'pending', provisioning_status: closed ? 'provisioned' : 'not_needed',
              provisioning_assignment_id: null, provisioning_observed_at: null, provisioning_imports_seen: 0, provisioning_checks: '[]', sod_conflicts: '[]', policy_id: null,
              closed_at: closed ? created : null, created_at: created, updated_at: created, version: 1,
            });
            const stepId = randomUUID();
            const approver = !closed && openIndex < 1000 ? inboxOwner : idOf.identity(200 + (k % 100));
            steps.push({
              id: stepId, tenant_id: tenantId, subject_kind: 'access_request', subject_id: id, position: 0, name: 'Owner', approver: JSON.stringify({ approver: 'identity', id: approver }),
              quorum: 1, due_days: null, escalate_to: null, status: closed ? 'approved' : 'open', due_at: null, opened_at: created, decided_at: closed ? created : null, escalated_at: null,
              subject: JSON.stringify({ kind: 'access_request', id, requesterId: target, targetIdentityIds: [target], resources: [] }),
            });
            tasks.push({ id: randomUUID(), tenant_id: tenantId, step_id: stepId, subject_kind: 'access_request', subject_id: id, approver_id: approver, status: closed ? 'approved' : 'open', via: 'policy', due_at: null, comment: null, decided_at: closed ? created : null, created_at: created });
          }
          for (let i = 0; i < requests.length; i += 500) await tx.db.insertInto('access_requests').values(requests.slice(i, i + 500)).execute();
          for (let i = 0; i < steps.length; i += 500) await tx.db.insertInto('approval_steps').values(steps.slice(i, i + 500)).execute();
          for (let i = 0; i < tasks.length; i += 500) await tx.db.insertInto('approval_tasks').values(tasks.slice(i, i + 500)).execute();
          tx.audit({ action: 'bench.load.accessRequests', targetType: 'accessRequest', targetId: null, after: { from: start } });
        });
      }
      await store.write(tenantId, META, async (tx) => {
        await tx.db.insertInto('counters').values({ tenant_id: tenantId, name: 'access_requests', value: SEEDED }).onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ value: SEEDED })).execute();
        tx.audit({ action: 'bench.load.counters', targetType: 'counter', targetId: null });
      });
      summary.seededRequests = { count: SEEDED, seconds: Math.round((performance.now() - t0) / 1000) };
      console.error(`seeded ${SEEDED} requests`);

      // 2. Submit.
      phaseLoad.submit = loadAverage();
      const namedRoles = [...named].filter((k) => k.startsWith('role:')).map((k) => k.slice(5));
      let requester = Math.floor(s.identities * 0.3);
      const submit = async (pick: (k: number) => { type: 'permission' | 'role'; id: string }) => {
        const samples: number[] = [];
        // A refusal (a block policy, already held) runs the same checks: timed too, apart.
        const refusedSamples: number[] = [];
        let refused = 0;
        const reasons = new Map<string, number>();
        for (let k = 0; k < 200; k += 1) {
          do requester += 1;
          while (!active(requester));
          const me = idOf.identity(requester);
          const start = performance.now();
          try {
            await createAccessRequest(deps, personActor(tenantId, me), { action: 'add', targetIdentityId: me, resource: pick(k), justification: 'bench' });
            samples.push(performance.now() - start);
          } catch (e) {
            refusedSamples.push(performance.now() - start);
            refused += 1;
            // Grouped by kind: the assignment, request or identity a reason names is left out.
            const why = ((e as { details?: { reason?: string } }).details?.reason ?? (e as Error).message.replace(/[:(].*$/, '')).replace(/#\d+|x-\d+|i-\d+/g, '#');
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
          }
        }
        return { ...percentiles(samples), refused, refusedMs: percentiles(refusedSamples), refusedBy: Object.fromEntries(reasons) };
      };
      let p = 0;
      const otherPerm = () => {
        do p += 7919;
        while (named.has(`permission:${idOf.perm(p % s.permissions)}`));
        return { type: 'permission' as const, id: idOf.perm(p % s.permissions) };
      };
      summary.submit = {
        roleNamedBySodPolicy: await submit((k) => ({ type: 'role', id: namedRoles[k % namedRoles.length]! })),
        permissionNamedByNone: await submit(() => otherPerm()),
      };
      console.error('submit', JSON.stringify(summary.submit));

      // 3. Inbox.
      phaseLoad.inbox = loadAverage();
      const owner = personActor(tenantId, inboxOwner);
      const inbox: number[] = [];
      let items = 0;
      for (let k = 0; k < 50; k += 1) {
        const { ms, value } = await timed(() => approvalInbox(deps, owner, {}));
        inbox.push(ms);
        items = value.items.length;
      }
      summary.inbox = { ...percentiles(inbox), openTasks: items };
      console.error('inbox', JSON.stringify(summary.inbox));

      // 4. Burst.
      phaseLoad.burstCreate = loadAverage();
      const burstIds: string[] = [];
      const burstTargets: string[] = [];
      const created: number[] = [];
      let who = Math.floor(s.identities * 0.4);
      while (burstIds.length < BURST && who < s.identities) {
        who += 1;
        if (!active(who)) continue;
        const me = idOf.identity(who);
        try {
          const { ms, value } = await timed(() => createAccessRequest(deps, personActor(tenantId, me), { action: 'add', targetIdentityId: me, resource: { type: 'permission', id: idOf.perm(burstPerm) } }));
          created.push(ms);
          if (value.value.status === 'pending') {
            burstIds.push(value.value.id);
            burstTargets.push(me);
          }
        } catch {
          // already held (the dataset gave it): not part of the burst
        }
      }
      console.error(`created ${burstIds.length} burst requests`);
      // One node, or on PostgreSQL two (two stores, two HTTP servers): each approval is sent
      // twice at once, to each node once when there are two. The HTTP clients share a bounded
      // pool of keep-alive connections per node (`--connections`), so the burst is bounded work
      // for the server (no connection storm) and every call gets an answer or a counted error.
      // The per-credential rate limit is off: one approver's key sends the whole burst on purpose.
      const unlimited = { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 };
      const app = await buildApp({ services, store, logLevel: 'silent', rateLimits: unlimited });
      await app.listen({ host: '127.0.0.1', port: 0 });
      // Idle keep-alive sockets stay open longer than a loaded client may take to reuse one.
      app.server.keepAliveTimeout = 120_000;
      const urls = [`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`];
      let nodeB: { close(): Promise<void> } | null = null;
      if (backend === 'postgres') {
        const storeB = await openStore({ databaseUrl: opened.databaseUrl, pgSchema: opened.pgSchema, dataDir: '' });
        const appB = await buildApp({ services: createServices({ store: storeB, now: () => new Date(), secrets }), store: storeB, logLevel: 'silent', rateLimits: unlimited });
        await appB.listen({ host: '127.0.0.1', port: 0 });
        appB.server.keepAliveTimeout = 120_000;
        urls.push(`http://127.0.0.1:${(appB.server.address() as AddressInfo).port}`);
        nodeB = { close: async () => { await appB.close(); await storeB.close(); } };
      }
      const { key } = await createApiKey(deps, system, { name: 'burst approver', identityId: burstApprover });
      const statuses = new Map<string, number>();
      const serverErrors: string[] = [];
      phaseLoad.burstApprove = loadAverage();
      const agents = urls.map(() => new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS }));
      const approve = (node: number, id: string) =>
        new Promise<string>((resolve) => {
          const body = '{}';
          const req = http.request(`${urls[node]}/api/v1/access-requests/${id}/approve`, { method: 'POST', agent: agents[node], headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if ((res.statusCode ?? 0) >= 500 && text.length < 2000) text += chunk;
            });
            res.on('end', () => {
              if (text && serverErrors.length < 5) serverErrors.push(text.slice(0, 500));
              resolve(String(res.statusCode));
            });
            res.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
          });
          req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
          req.end(body);
        });
      let next = 0;
      t0 = performance.now();
      // Workers: each takes the next request and sends its two approvals at once; in flight at most
      // CONNECTIONS per node (the agents queue the rest).
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (next < burstIds.length) {
            const id = burstIds[next++]!;
            const answers = await Promise.all([approve(0, id), approve(urls.length - 1, id)]);
            for (const a of answers) statuses.set(a, (statuses.get(a) ?? 0) + 1);
          }
        }),
      );
      const burstSeconds = (performance.now() - t0) / 1000;
      agents.forEach((a) => a.destroy());
      await app.close();
      await nodeB?.close();
      const db = store.read(tenantId).db;
      let completed = 0;
      const byStatus = new Map<string, number>();
      let perTarget = new Map<string, number>();
      for (let i = 0; i < burstIds.length; i += 500) {
        const ids = burstIds.slice(i, i + 500);
        const rows = await db.selectFrom('access_requests').select(['status', 'provisioning_assignment_id']).where('id', 'in', ids).execute();
        completed += rows.filter((x) => x.status === 'completed').length;
        for (const x of rows) byStatus.set(x.status, (byStatus.get(x.status) ?? 0) + 1);
        const targets = burstTargets.slice(i, i + 500);
        const assigned = await db.selectFrom('assignments').select('assignee_id').where('source', '=', 'request').where('resource_id', '=', idOf.perm(burstPerm)).where('assignee_id', 'in', targets).execute();
        for (const a of assigned) perTarget.set(a.assignee_id, (perTarget.get(a.assignee_id) ?? 0) + 1);
      }
      const counts = [...perTarget.values()];
      summary.burst = {
        requests: burstIds.length,
        createP50Ms: percentiles(created).p50,
        nodes: urls.length,
        connectionsPerNode: CONNECTIONS,
        approvalCallsSent: burstIds.length * 2,
        seconds: Math.round(burstSeconds * 10) / 10,
        statuses: Object.fromEntries(statuses),
        completed,
        requestStatuses: Object.fromEntries(byStatus),
        serverErrors,
        targetsWithExactlyOneAssignment: counts.filter((c) => c === 1).length,
        targetsWithMoreThanOne: counts.filter((c) => c > 1).length,
        targetsWithNone: burstTargets.length - perTarget.size,
      };
      perTarget = new Map();
      console.error('burst', JSON.stringify(summary.burst));
    }

    if (doPersonnel) {
      const admin = personActor(tenantId, idOf.identity(3), RIGHTS);
      // 5. Preview: an identity given roles until it holds about 500 permissions.
      phaseLoad.preview = loadAverage();
      const subject = 5;
      const held = new Set<number>();
      const roleClosure = (k: number, into: Set<number>, seen = new Set<number>()) => {
        if (seen.has(k)) return;
        seen.add(k);
        d.rolePerms[k]!.forEach((x) => into.add(x));
        d.roleIncludes[k]!.forEach((x) => roleClosure(x, into, seen));
      };
      d.assignments.forEach((a) => {
        if (a.toUnit || a.assignee !== subject || a.state !== 'active' || a.validTo || a.validFrom || a.contextUnit >= 0 || a.delegatedFrom >= 0) return;
        if (a.toRole) roleClosure(a.resource, held);
        else held.add(a.resource);
      });
      const given: string[] = [];
      for (let k = 0; held.size < 500 && k < s.roles; k += 1) {
        if (named.has(`role:${idOf.role(k)}`)) continue;
        const before = held.size;
        roleClosure(k, held);
        if (held.size > before) given.push(idOf.role(k));
      }
      if (given.length) await store.write(tenantId, META, async (tx) => {
        const now = new Date().toISOString();
        await tx.db.insertInto('assignments').values(given.map((roleId) => ({
          id: randomUUID(), tenant_id: tenantId, assignee_type: 'identity', assignee_id: idOf.identity(subject), resource_type: 'role', resource_id: roleId, context_type: 'all', context_id: null,
          source: 'direct', state: 'active', valid_from: null, valid_to: null, delegated_from_id: null, delegator_id: null, rule_id: null, reason: null, created_by: null, created_at: now, updated_at: now, version: 1,
        }))).execute();
        tx.audit({ action: 'bench.load.previewRoles', targetType: 'identity', targetId: idOf.identity(subject) });
      });
      await access.syncNow(tenantId);
      const move = await createPersonnelEvent(deps, admin, { type: 'role_transition', identityId: idOf.identity(subject), identity: { orgUnitId: idOf.unit((d.identityUnit[subject]! + 1) % s.units) }, effectiveDate: '2031-01-01' });
      if (!('event' in move)) throw new Error('expected an event');
      const previews: number[] = [];
      for (let k = 0; k < 20; k += 1) previews.push((await timed(() => previewPersonnelEvent(deps, admin, move.event.id))).ms);
      summary.preview = { ...percentiles(previews), effectivePermissions: held.size, rolesGiven: given.length };
      console.error('preview', JSON.stringify(summary.preview));

      // 6. Offboardings due at one minute.
      const offboard = async (from: number, n: number, at: Date) => {
        const events: { id: string; identityId: string }[] = [];
        let i = from;
        while (events.length < n) {
          i += 1;
          if (!active(i)) continue;
          const made = await createPersonnelEvent(deps, admin, { type: 'offboard', identityId: idOf.identity(i), effectiveDate: at.toISOString() });
          if ('event' in made) events.push({ id: made.event.id, identityId: idOf.identity(i) });
        }
        return { events, last: i };
      };
      const drain = async (nodes: { deps: typeof deps; name: string }[], now: Date, batchSize?: number) => {
        const start = performance.now();
        for (;;) {
          const reports = await Promise.all(nodes.map((n) => runDueJobs(n.deps, { node: n.name, now, ...(batchSize ? { batchSize } : {}) })));
          if (reports.every((r) => r.done + r.failed + r.retried + r.skipped === 0)) break;
        }
        return (performance.now() - start) / 1000;
      };
      const verify = async (events: { id: string; identityId: string }[]) => {
        const db = store.read(tenantId).db;
        let completed = 0;
        let stageRunsOnce = 0;
        let identityUpdatedOnce = 0;
        for (let i = 0; i < events.length; i += 500) {
          const part = events.slice(i, i + 500);
          completed += (await db.selectFrom('personnel_events').select('id').where('id', 'in', part.map((e) => e.id)).where('status', '=', 'completed').execute()).length;
          const entries = await db.selectFrom('workflow_entries').select('subject_id').where('subject_id', 'in', part.map((e) => e.id)).where('text', '=', 'Deprovision completed').execute();
          const perEvent = new Map<string, number>();
          for (const e of entries) perEvent.set(e.subject_id, (perEvent.get(e.subject_id) ?? 0) + 1);
          stageRunsOnce += [...perEvent.values()].filter((c) => c === 1).length;
          const audits = await db.selectFrom('audit_events').select('target_id').where('action', '=', 'identity.update').where('target_id', 'in', part.map((e) => e.identityId)).execute();
          const perIdentity = new Map<string, number>();
          for (const a of audits) perIdentity.set(a.target_id!, (perIdentity.get(a.target_id!) ?? 0) + 1);
          identityUpdatedOnce += [...perIdentity.values()].filter((c) => c === 1).length;
        }
        return { events: events.length, completed, deprovisionRanOnce: stageRunsOnce, identityUpdatedOnce };
      };
      const soon = (minutes: number) => new Date(Math.ceil(Date.now() / 60_000) * 60_000 + minutes * 60_000);
      phaseLoad.offboardCreate = loadAverage();
      const firstAt = soon(30);
      t0 = performance.now();
      const first = await offboard(Math.max(10, Math.min(Math.floor(s.identities * 0.5), s.identities - Math.ceil((SEQUENTIAL + OFFBOARD) * 1.03) - 10)), SEQUENTIAL, firstAt);
      const secondAt = soon(31);
      const second = await offboard(first.last, OFFBOARD, secondAt);
      summary.offboardingsCreatedSeconds = Math.round((performance.now() - t0) / 1000);
      console.error(`created ${SEQUENTIAL + OFFBOARD} offboardings`);
      phaseLoad.offboardSequential = loadAverage();
      const sequentialSeconds = await drain([{ deps, name: 'one' }], new Date(firstAt.getTime() + 1000), 1);
      summary.offboardOneJobPerWrite = { seconds: round(sequentialSeconds), ...(await verify(first.events)) };
      console.error('sequential', JSON.stringify(summary.offboardOneJobPerWrite));
      phaseLoad.offboardBatched = loadAverage();
      const nodes = [{ deps, name: 'node-a' }];
      let second2: Store | null = null;
      if (backend === 'postgres') {
        second2 = await openStore({ databaseUrl: opened.databaseUrl, pgSchema: opened.pgSchema, dataDir: '' });
        nodes.push({ deps: createServices({ store: second2, now: () => new Date(), secrets }).deps, name: 'node-b' });
      }
      const batchedSeconds = await drain(nodes, new Date(secondAt.getTime() + 1000));
      await second2?.close();
      summary.offboardBatched = { nodes: nodes.length, seconds: round(batchedSeconds), ...(await verify(second.events)) };
      console.error('batched', JSON.stringify(summary.offboardBatched));
    }
    access.stop();
    summary.loadAverage = { start: loadAtStart, phases: phaseLoad, end: loadAverage() };
    console.log(JSON.stringify(summary, null, 2));
    mkdirSync(join('bench', 'results'), { recursive: true });
    const part = doRequests && doPersonnel ? '' : doRequests ? '-requests' : '-personnel';
    writeFileSync(join('bench', 'results', `workflows-${size}-${backend}${part}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await opened.dispose();
  }
}

await main();
