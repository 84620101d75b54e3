/**
 * The account import of the demo tenant: Core Banking (a connected application) gets a
 * connector and an uploaded file of its accounts, processed by the import service exactly
 * as an administrator's upload is (`POST /api/v1/imports/upload`, then the import worker).
 * The file is made so that every page has something to show:
 *
 * - **matched** accounts of the people the Accountant and Treasurer roles reach, holding
 *   what they are assigned;
 * - **drift** both ways: a few accountants whose account lacks `ledger.post`
 *   (assigned, not provisioned), a few people holding rights nobody assigned them
 *   (`payments.approve`, `accounts.open`: provisioned, not assigned), and role holders with
 *   no account at all;
 * - **orphan** accounts no identity matches (a retired batch user, a former employee, an
 *   external auditor), one of them disabled.
 */
import { Readable } from 'node:stream';
import { AppError } from '../domain/errors.ts';
import { processImport, setConnector, uploadImport, type UploadPart } from '../services/imports/index.ts';
import type { SeedContext, SeedStep } from './steps.ts';

export const DEMO_IMPORT_APPLICATION = 'Core Banking';

const CONNECTOR = {
  type: 'file',
  directory: 'core-banking',
  fileGroups: [
    {
      name: 'accounts',
      pattern: 'core-banking-accounts*.csv',
      required: true,
      format: 'csv',
      columns: { accountName: 'login', accountStatus: 'status', email: 'mail', employeeNumber: 'emp_no', permission: 'entitlement' },
    },
  ],
  matching: ['employeeNumber', 'email'],
  unknownPermissions: 'report',
};

/** What the demo's roles give in Core Banking, by department (catalog.ts). */
const ACCOUNTANT = ['accounts.read', 'ledger.post', 'reports.view'];
const TREASURER = [...ACCOUNTANT, 'payments.create', 'payments.approve'];
const GRANTS_BY_DEPARTMENT: Record<string, string[]> = { Accounting: ACCOUNTANT, Controlling: ACCOUNTANT, Treasury: TREASURER };

/** At most this many matched accounts (a large demo keeps a file of a realistic size). */
const MAX_MATCHED = 2000;

interface Row {
  login: string;
  status: string;
  mail: string;
  emp_no: string;
  entitlement: string;
}

const csvField = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

function toCsv(rows: Row[]): string {
  const header: (keyof Row)[] = ['login', 'status', 'mail', 'emp_no', 'entitlement'];
  return [header.join(','), ...rows.map((r) => header.map((k) => csvField(r[k])).join(','))].join('\n') + '\n';
}

/** The rows of the demo's Core Banking file (see the file comment). */
export function demoAccountRows(ctx: Pick<SeedContext, 'directory' | 'options'>): Row[] {
  const people = ctx.directory.identities.filter((p) => p.status === 'active' && p.type === 'employee');
  const holders = people.filter((p) => GRANTS_BY_DEPARTMENT[String(p.attributes.department)]).slice(0, MAX_MATCHED);
  const rows: Row[] = [];
  const account = (p: (typeof people)[number], grants: string[]) => {
    for (const entitlement of grants) rows.push({ login: p.username, status: 'active', mail: p.email, emp_no: p.employeeNumber, entitlement });
  };
  // Every fifth holder has no account at all (assigned, never provisioned).
  const withAccount = holders.filter((_, i) => i % 5 !== 4);
  for (const [i, p] of withAccount.entries()) {
    const grants = GRANTS_BY_DEPARTMENT[String(p.attributes.department)]!;
    // Two accountants lack ledger.post; one holds payments.approve nobody assigned.
    if (i < 2) account(p, grants.filter((g) => g !== 'ledger.post'));
    else if (i === 2 && !grants.includes('payments.approve')) account(p, [...grants, 'payments.approve']);
    else account(p, grants);
  }
  // People outside finance with Core Banking access nobody assigned.
  for (const p of people.filter((q) => !GRANTS_BY_DEPARTMENT[String(q.attributes.department)]).slice(0, 2)) account(p, ['accounts.read', 'accounts.open']);
  // Orphans: accounts no identity matches.
  const domain = ctx.options.domain ?? 'example.com';
  rows.push({ login: 'batch_legacy', status: 'active', mail: '', emp_no: '', entitlement: 'ledger.post' });
  rows.push({ login: 'jmiller_old', status: 'disabled', mail: `j.miller@former.${domain}`, emp_no: 'E09999', entitlement: 'accounts.read' });
  rows.push({ login: 'ext_auditor', status: 'active', mail: 'auditor@audit-partners.example', emp_no: '', entitlement: 'reports.view' });
  return rows;
}

export const seedAccountImportStep: SeedStep = {
  name: 'account import',
  async run(ctx: SeedContext) {
    const { deps, actor } = ctx;
    const applicationId = ctx.ids.get(`demo:app:${DEMO_IMPORT_APPLICATION}`);
    if (!applicationId) throw new Error(`the demo's account import needs the application ${DEMO_IMPORT_APPLICATION} (the catalog step)`);
    const { value: connector } = await setConnector(deps, actor, applicationId, CONNECTOR);
    const groupId = connector.fileGroups[0]!.id!;
    const csv = toCsv(demoAccountRows(ctx));
    async function* parts(): AsyncGenerator<UploadPart> {
      yield { kind: 'field', name: 'applicationId', value: applicationId! };
      yield { kind: 'file', name: groupId, filename: 'core-banking-accounts.csv', stream: Readable.from([Buffer.from(csv, 'utf8')]) };
    }
    ctx.progress(`importing ${DEMO_IMPORT_APPLICATION} accounts`);
    const { value: staged } = await uploadImport(deps, actor, parts(), { type: 'Manual' });
    // What the import worker does with a pending import.
    const outcome = await processImport(deps, actor.caller.tenantId, staged.id);
    const row = await deps.store
      .read(actor.caller.tenantId)
      .db.selectFrom('imports')
      .select(['status', 'metrics', 'number'])
      .where('tenant_id', '=', actor.caller.tenantId)
      .where('id', '=', staged.id)
      .executeTakeFirstOrThrow();
    if (row.status !== 'Finished' || row.metrics === null) {
      throw new AppError('internal_error', `the demo's account import #${row.number} ended ${row.status} (${outcome}); see GET /api/v1/imports/${staged.id}`);
    }
    const m = JSON.parse(row.metrics) as { accountsObserved: number; accountsMatched: number; accountsOrphaned: number; grantsAdded: number };
    ctx.report.push(`${DEMO_IMPORT_APPLICATION} import #${row.number}: ${m.accountsObserved} accounts (${m.accountsMatched} matched, ${m.accountsOrphaned} orphaned), ${m.grantsAdded} grants`);
  },
};
