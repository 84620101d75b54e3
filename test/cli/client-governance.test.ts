/**
 * The client commands for governance as a user runs them: spawned `grantory` processes (the
 * build in dist/) against a real server (on the run's database backend) — approval policies,
 * separation of duties, access reviews, personnel events, event sinks and the tenant's
 * settings, in the output formats and with their exit codes — and the confirmation that
 * delete, revoke and cancel ask on a terminal (a pseudo-terminal from util-linux `script`) and
 * need --yes on a pipe.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROCESS_TIMEOUT, runOnTerminal, type CliResult } from '../support/cli.ts';
import { printedJson, useClientServer } from '../support/client-server.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- outputs are read loosely

const G = `${process.execPath} ${resolve(import.meta.dirname, '../../bin/grantory.js')}`;
const context = useClientServer('cli-governance');
const cli = context.cli;
const json = (result: CliResult): Json => printedJson<Json>(result);
const lines = (result: CliResult): string[] => result.stdout.trim().split('\n');

/** An application with two permissions, and a person holding both. */
async function payroll(name: string): Promise<{ app: Json; pay: Json; approve: Json; person: Json }> {
  const person = json(await cli(['identities', 'create', '--username', `${name}-clerk`]));
  const app = json(await cli(['applications', 'create', '--name', name]));
  const pay = json(await cli(['permissions', 'create', app.id, '--name', `${name}.pay`]));
  const approve = json(await cli(['permissions', 'create', app.id, '--name', `${name}.approve`]));
  for (const permission of [pay, approve]) json(await cli(['assignments', 'grant', '--assignee', `type=identity,id=${person.id}`, '--resource', `type=permission,id=${permission.id}`]));
  return { app, pay, approve, person };
}

describe('approval policies and settings', PROCESS_TIMEOUT, () => {
  it('create, get, update, list in every format; delete needs --yes on a pipe', async () => {
    const steps = JSON.stringify([{ name: 'Manager', approver: 'manager' }]);
    const created = json(await cli(['approval-policies', 'create', '--name', 'Manager first', '--steps', steps, '--auto-approve', 'low']));
    expect(created).toMatchObject({ name: 'Manager first', autoApprove: 'low', steps: [{ name: 'Manager', approver: 'manager' }] });
    expect(json(await cli(['approval-policies', 'update', created.id, '--auto-approve', 'medium']))).toMatchObject({ autoApprove: 'medium' });
    expect(parseYaml((await cli(['approval-policies', 'get', created.id, '-o', 'yaml'])).stdout)).toMatchObject({ name: 'Manager first', autoApprove: 'medium' });
    expect((await cli(['approval-policies', 'list', '--all', '-o', 'csv', '--fields', 'name,autoApprove,steps.0.approver'])).stdout).toBe('name,autoApprove,steps.0.approver\nManager first,medium,manager\n');
    expect(await cli(['approval-policies', 'list', '-q'])).toMatchObject({ code: 0, stdout: `${created.id}\n` });
    expect(json(await cli(['approval-policies', 'list']))).toEqual([expect.objectContaining({ id: created.id })]);
    expect(await cli(['approval-policies', 'create', '--name', 'No steps'])).toMatchObject({ code: 2, stderr: 'grantory: missing --steps\n  give the flags, or the whole body with --data JSON|@file|-\n' });

    const refused = await cli(['approval-policies', 'delete', created.id]);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe(`grantory: delete approval policy ${created.id}: not confirmed; pass --yes to delete without being asked\n  commands that delete or end something ask first on a terminal, and need --yes elsewhere\n`);
    expect(json(await cli(['approval-policies', 'get', created.id]))).toMatchObject({ id: created.id });
    expect(await cli(['approval-policies', 'delete', created.id, '--yes'])).toMatchObject({ code: 0, stderr: '' });
    expect((await cli(['approval-policies', 'get', created.id])).code).toBe(3);
    expect((await cli(['approval-policies', 'delete', created.id, '-y'])).code).toBe(3);
  });

  it("settings get and update the tenant's settings", async () => {
    expect(json(await cli(['settings', 'get']))).toMatchObject({ timeZone: expect.any(String), personnelEvents: expect.any(Object) });
    expect((await cli(['settings', 'update', '--time-zone', 'Europe/Oslo', '-o', 'ndjson', '--fields', 'timeZone'])).stdout).toBe('{"timeZone":"Europe/Oslo"}\n');
    expect(json(await cli(['settings', 'get'])).timeZone).toBe('Europe/Oslo');
    expect((await cli(['settings', 'update', '--time-zone', 'Mars/Olympus_Mons'])).code).toBe(2);
    json(await cli(['settings', 'update', '--time-zone', 'UTC']));
  });
});

describe('separation of duties', PROCESS_TIMEOUT, () => {
  it('policies, the violations they find, and exceptions', async () => {
    const { pay, approve, person } = await payroll('sod');
    const conflicting = JSON.stringify([[{ type: 'permission', id: pay.id }], [{ type: 'permission', id: approve.id }]]);
    const policy = json(await cli(['sod-policies', 'create', '--name', 'Pay and approve', '--conflicting', conflicting, '--mode', 'require_exception', '--severity', 'high']));
    expect(policy).toMatchObject({ mode: 'require_exception', severity: 'high', enabled: true });

    const violations = await cli(['sod-violations', 'list', '--policy-id', policy.id, '--all', '-o', 'ndjson', '--fields', 'policy.name,identity.username,exception']);
    expect(violations).toMatchObject({ code: 0, stderr: '', stdout: '{"policy.name":"Pay and approve","identity.username":"sod-clerk","exception":null}\n' });

    const exception = json(await cli(['sod-exceptions', 'create', '--policy-id', policy.id, '--identity-id', person.id, '--reason', 'Month-end cover', '--expires-at', '2099-01-01T00:00:00Z']));
    expect(exception).toMatchObject({ policyId: policy.id, identityId: person.id, reason: 'Month-end cover' });
    expect(json(await cli(['sod-exceptions', 'get', exception.id]))).toMatchObject({ id: exception.id });
    expect(await cli(['sod-exceptions', 'list', '--identity-id', person.id, '--active', '-q'])).toMatchObject({ code: 0, stdout: `${exception.id}\n` });
    expect(json(await cli(['sod-violations', 'list', '--policy-id', policy.id]))).toEqual([expect.objectContaining({ exception: expect.objectContaining({ id: exception.id }) })]);
    expect(await cli(['sod-exceptions', 'create', '--policy-id', policy.id, '--identity-id', person.id, '--reason', 'x', '--expires-at', 'soon'])).toMatchObject({ code: 2 });

    expect(json(await cli(['sod-policies', 'update', policy.id, '--no-enabled']))).toMatchObject({ enabled: false });
    expect(lines(await cli(['sod-policies', 'list', '--no-enabled', '-q']))).toEqual([policy.id]);
    expect(await cli(['sod-policies', 'delete', policy.id, '--yes'])).toMatchObject({ code: 0, stderr: '' });
    expect((await cli(['sod-policies', 'get', policy.id])).code).toBe(3);
  });
});

describe('access reviews', PROCESS_TIMEOUT, () => {
  it('a campaign created, started, decided, reported and closed', async () => {
    const { app, person } = await payroll('review');
    // The caller reviews (only an item's reviewer decides it).
    const me = json(await cli(['api', 'GET', 'me']));
    const review = json(await cli(['reviews', 'create', '--name', 'Q3 review', '--scope', JSON.stringify({ applicationIds: [app.id] }), '--reviewer', `type=identity,id=${me.identityId}`, '--space', 'assigned']));
    expect(review).toMatchObject({ name: 'Q3 review', status: 'draft' });
    expect(json(await cli(['reviews', 'start', review.id]))).toMatchObject({ status: 'active', itemCount: 2 });
    expect((await cli(['reviews', 'list', '--status', 'active', '-o', 'csv', '--fields', 'name,status,itemCount'])).stdout).toBe('name,status,itemCount\nQ3 review,active,2\n');

    const items = (await cli(['reviews', 'items', review.id, '--all', '-o', 'ndjson'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as Json);
    expect(items.map((i) => [i.identity.id, i.permission.name]).sort()).toEqual([[person.id, 'review.approve'], [person.id, 'review.pay']]);
    const [first, second] = items as [Json, Json];
    expect(json(await cli(['reviews', 'decide', first.id, '--decision', 'certify', '--comment', 'still needed']))).toMatchObject({ id: first.id, decision: 'certify' });
    expect(await cli(['reviews', 'decide', second.id, '--decision', 'promote'])).toMatchObject({ code: 2 });
    expect(lines(await cli(['reviews', 'items', review.id, '--state', 'open', '-q']))).toEqual([second.id]);
    expect(json(await cli(['reviews', 'decide-many', '--item-ids', second.id, '--decision', 'certify']))).toBeTruthy();
    expect(json(await cli(['reviews', 'progress', review.id]))).toMatchObject({ total: 2, decided: 2, open: 0 });

    // The report streams to stdout (CSV) or to a file (PDF).
    const csv = await cli(['reviews', 'report', review.id]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toMatch(/^# IN PROGRESS/);
    expect(csv.stdout).toContain('review.approve');
    const pdf = join(context.dir, 'report.pdf');
    expect(await cli(['reviews', 'report', review.id, '--format', 'pdf', '--out', pdf])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');

    expect(json(await cli(['reviews', 'close', review.id]))).toMatchObject({ status: 'closed' });
    expect((await cli(['reviews', 'get', '00000000-0000-4000-8000-000000000000'])).code).toBe(3);
  });
});

describe('personnel events', PROCESS_TIMEOUT, () => {
  it('onboard (dry run and real), leave moved, comment, preview, cancel', async () => {
    const joiner = ['--identity', 'firstName=Jane,lastName=Doe,username=jane.doe', '--effective-date', '2099-09-01'];
    const dry = json(await cli(['personnel-events', 'onboard', ...joiner, '--dry-run']));
    expect(dry).toMatchObject({ dryRun: true, preview: { identity: { after: { username: 'jane.doe' } } } });
    expect(json(await cli(['personnel-events', 'list', '--type', 'onboard']))).toEqual([]);

    const event = json(await cli(['personnel-events', 'onboard', ...joiner, '--comment', 'Starts in Finance']));
    expect(event).toMatchObject({ type: 'onboard', status: 'scheduled', identityName: 'Jane Doe' });
    expect(json(await cli(['personnel-events', 'preview', event.id]))).toMatchObject({ identity: { after: { username: 'jane.doe' } } });
    expect(json(await cli(['personnel-events', 'comment', event.id, '--comment', 'Laptop ordered'])).comments).toEqual([expect.objectContaining({ text: 'Laptop ordered' })]);
    expect((await cli(['personnel-events', 'list', '-o', 'csv', '--fields', 'number,type,status,identityName'])).stdout).toBe(`number,type,status,identityName\n${event.number},onboard,scheduled,Jane Doe\n`);

    const person = json(await cli(['identities', 'create', '--username', 'leaver']));
    const leave = json(await cli(['personnel-events', 'leave', '--identity-id', person.id, '--effective-date', '2099-05-01', '--end-date', '2099-08-01']));
    expect(leave).toMatchObject({ type: 'leave_of_absence', identityId: person.id });
    const moved = json(await cli(['personnel-events', 'update', leave.id, '--end-date', '2099-09-01T00:00:00Z']));
    expect(moved.endDate).toBe('2099-09-01T00:00:00.000Z');
    expect(json(await cli(['personnel-events', 'role-transition', '--identity-id', person.id, '--effective-date', '2099-07-01', '--changes', 'displayName=Moved On', '--dry-run']))).toMatchObject({ dryRun: true });
    expect(json(await cli(['personnel-events', 'offboard', '--identity-id', person.id, '--effective-date', '2099-12-01', '--dry-run']))).toMatchObject({ dryRun: true });

    expect(await cli(['personnel-events', 'cancel', event.id, '--comment', 'Offer withdrawn'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^grantory: cancel personnel event \S+: not confirmed; pass --yes/) });
    expect(json(await cli(['personnel-events', 'cancel', event.id, '--comment', 'Offer withdrawn', '--yes']))).toMatchObject({ status: 'canceled' });
    expect((await cli(['personnel-events', 'cancel', event.id, '--yes'])).code).toBe(5);
    expect(json(await cli(['personnel-events', 'get', event.id]))).toMatchObject({ status: 'canceled' });
  });
});

describe('event sinks', PROCESS_TIMEOUT, () => {
  it('create (its secret shown once), list, get with deliveries, retry, delete', async () => {
    const sink = json(await cli(['event-sinks', 'create', '--name', 'siem', '--type', 'webhook', '--webhook', 'url=http://127.0.0.1:9/hook', '--format', 'ocsf']));
    expect(sink).toMatchObject({ name: 'siem', type: 'webhook', format: 'ocsf' });
    expect(sink.secret).toEqual(expect.any(String));
    expect((await cli(['event-sinks', 'list', '-o', 'ndjson', '--fields', 'name,type,format'])).stdout).toBe('{"name":"siem","type":"webhook","format":"ocsf"}\n');
    const got = parseYaml((await cli(['event-sinks', 'get', sink.id, '-o', 'yaml'])).stdout) as Json;
    expect(got).toMatchObject({ id: sink.id, webhook: { url: 'http://127.0.0.1:9/hook' } });
    expect(got).not.toHaveProperty('secret');
    expect(json(await cli(['event-sinks', 'retry', sink.id]))).toMatchObject({ requeued: expect.any(Number) });
    expect(await cli(['event-sinks', 'create', '--name', 'bad', '--type', 'carrier-pigeon'])).toMatchObject({ code: 2 });
    expect(await cli(['event-sinks', 'delete', sink.id, '--yes'])).toMatchObject({ code: 0, stderr: '' });
    expect((await cli(['event-sinks', 'get', sink.id])).code).toBe(3);
  });
});

describe('confirmation on a terminal', PROCESS_TIMEOUT, () => {
  it('delete and revoke ask; n keeps, y goes on, --yes does not ask', async () => {
    const person = json(await cli(['identities', 'create', '--username', 'asked']));
    const declined = await runOnTerminal(`${G} identities delete ${person.id}`, { ...context.env, NO_COLOR: '1' }, [{ when: /\[y\/N\]/, type: 'n\r' }]);
    expect(declined.output).toContain(`Delete identity ${person.id}? [y/N] `);
    expect(declined.output).toContain(`grantory: not deleted: identity ${person.id}`);
    expect(declined.code).toBe(1);
    expect(json(await cli(['identities', 'get', person.id]))).toMatchObject({ id: person.id });

    // Enter alone is no.
    const enter = await runOnTerminal(`${G} identities delete ${person.id}`, context.env, [{ when: /\[y\/N\]/, type: '\r' }]);
    expect(enter.code).toBe(1);

    const { pay, person: holder } = await payroll('asked');
    const assignment = json(await cli(['assignments', 'list', '--assignee-id', holder.id, '--resource-id', pay.id]))[0] as Json;
    const revoked = await runOnTerminal(`${G} assignments revoke ${assignment.id} --reason left`, { ...context.env, NO_COLOR: '1' }, [{ when: /\[y\/N\]/, type: 'y\r' }]);
    expect(revoked.output).toContain(`Revoke assignment ${assignment.id}? [y/N] `);
    expect(revoked.code).toBe(0);
    expect(json(await cli(['assignments', 'get', assignment.id])).state).not.toBe('active');

    const accepted = await runOnTerminal(`${G} identities delete ${person.id}`, context.env, [{ when: /\[y\/N\]/, type: 'yes\r' }]);
    expect(accepted.code).toBe(0);
    expect((await cli(['identities', 'get', person.id])).code).toBe(3);

    const other = json(await cli(['identities', 'create', '--username', 'unasked']));
    const yes = await runOnTerminal(`${G} identities delete ${other.id} --yes`, context.env);
    expect(yes.code).toBe(0);
    expect(yes.output).not.toContain('[y/N]');
  });
});
