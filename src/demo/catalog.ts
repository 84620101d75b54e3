/**
 * The catalog part of the demo tenant: eight applications with permission catalogs, roles
 * that bundle them (with one role including others), and assignments that give each role
 * to the departments that need it plus a few direct, paused and time-bounded ones — so a
 * newcomer sees check, explain, holders and drift answer something real.
 */
import { createAssignment } from '../services/access/index.ts';
import { createApplication, createPermission, createRole } from '../services/catalog/index.ts';
import type { SeedContext, SeedStep } from './steps.ts';

type Risk = 'low' | 'medium' | 'high' | 'critical';

interface AppPlan {
  name: string;
  kind: 'managed' | 'connected';
  priority: 'Low' | 'Medium' | 'High' | 'Critical';
  description: string;
  permissions: [name: string, category: string, risk: Risk][];
}

const APPLICATIONS: AppPlan[] = [
  { name: 'Core Banking', kind: 'connected', priority: 'Critical', description: 'Accounts, payments and ledgers', permissions: [['accounts.read', 'Accounts', 'medium'], ['accounts.open', 'Accounts', 'high'], ['payments.create', 'Payments', 'high'], ['payments.approve', 'Payments', 'critical'], ['ledger.post', 'Ledger', 'critical'], ['reports.view', 'Reports', 'low']] },
  { name: 'HR Portal', kind: 'managed', priority: 'High', description: 'Personnel records and payroll', permissions: [['employees.read', 'Employees', 'medium'], ['employees.edit', 'Employees', 'high'], ['payroll.view', 'Payroll', 'high'], ['payroll.run', 'Payroll', 'critical'], ['self-service', 'Self service', 'low']] },
  { name: 'CRM', kind: 'connected', priority: 'High', description: 'Customers, opportunities and campaigns', permissions: [['contacts.read', 'Contacts', 'low'], ['contacts.edit', 'Contacts', 'medium'], ['opportunities.manage', 'Sales', 'medium'], ['campaigns.send', 'Marketing', 'medium'], ['export', 'Data', 'high']] },
  { name: 'Trustee App', kind: 'managed', priority: 'Medium', description: 'Bills and trustee bookkeeping per company', permissions: [['TrusteeApp_AddBill', 'Bills', 'medium'], ['TrusteeApp_ApproveBill', 'Bills', 'high'], ['TrusteeApp_ViewBills', 'Bills', 'low']] },
  { name: 'Ticketing', kind: 'managed', priority: 'Medium', description: 'Service desk', permissions: [['tickets.create', 'Tickets', 'low'], ['tickets.resolve', 'Tickets', 'low'], ['tickets.admin', 'Administration', 'medium']] },
  { name: 'Source Control', kind: 'connected', priority: 'High', description: 'Code repositories', permissions: [['repo.read', 'Repositories', 'low'], ['repo.write', 'Repositories', 'medium'], ['repo.admin', 'Administration', 'high'], ['deploy.production', 'Deployments', 'critical']] },
  { name: 'Data Warehouse', kind: 'connected', priority: 'High', description: 'Analytics and reporting', permissions: [['dashboards.view', 'Dashboards', 'low'], ['queries.run', 'Queries', 'medium'], ['pii.read', 'Sensitive data', 'critical']] },
  { name: 'Document Archive', kind: 'managed', priority: 'Low', description: 'Contracts and records retention', permissions: [['documents.read', 'Documents', 'low'], ['documents.upload', 'Documents', 'low'], ['retention.manage', 'Retention', 'high']] },
];

interface RolePlan {
  name: string;
  description: string;
  permissions: [app: string, permission: string][];
  includes?: string[];
  /** Departments (by name) whose members get the role through a unit assignment. */
  departments: string[];
}

const ROLES: RolePlan[] = [
  { name: 'Employee', description: 'What everyone has', permissions: [['HR Portal', 'self-service'], ['Ticketing', 'tickets.create'], ['Document Archive', 'documents.read']], departments: [] },
  { name: 'Accountant', description: 'Bookkeeping', permissions: [['Core Banking', 'accounts.read'], ['Core Banking', 'ledger.post'], ['Core Banking', 'reports.view'], ['Trustee App', 'TrusteeApp_AddBill'], ['Trustee App', 'TrusteeApp_ViewBills']], includes: ['Employee'], departments: ['Accounting', 'Controlling'] },
  { name: 'Treasurer', description: 'Payments and cash', permissions: [['Core Banking', 'payments.create'], ['Core Banking', 'payments.approve']], includes: ['Accountant'], departments: ['Treasury'] },
  { name: 'HR Specialist', description: 'Personnel administration', permissions: [['HR Portal', 'employees.read'], ['HR Portal', 'employees.edit'], ['HR Portal', 'payroll.view']], includes: ['Employee'], departments: ['Recruiting', 'HR Operations'] },
  { name: 'Sales Representative', description: 'Customers and opportunities', permissions: [['CRM', 'contacts.read'], ['CRM', 'contacts.edit'], ['CRM', 'opportunities.manage']], includes: ['Employee'], departments: ['Sales EMEA', 'Sales Americas', 'Customer Success'] },
  { name: 'Marketer', description: 'Campaigns', permissions: [['CRM', 'contacts.read'], ['CRM', 'campaigns.send']], includes: ['Employee'], departments: ['Marketing'] },
  { name: 'Developer', description: 'Build and ship software', permissions: [['Source Control', 'repo.read'], ['Source Control', 'repo.write'], ['Data Warehouse', 'dashboards.view']], includes: ['Employee'], departments: ['Platform Engineering', 'Product Engineering'] },
  { name: 'Release Manager', description: 'Production deployments', permissions: [['Source Control', 'deploy.production'], ['Source Control', 'repo.admin']], includes: ['Developer'], departments: [] },
  { name: 'Analyst', description: 'Reporting and analytics', permissions: [['Data Warehouse', 'dashboards.view'], ['Data Warehouse', 'queries.run']], includes: ['Employee'], departments: ['Data', 'Controlling'] },
  { name: 'Service Desk Agent', description: 'Support', permissions: [['Ticketing', 'tickets.resolve'], ['Ticketing', 'tickets.admin']], includes: ['Employee'], departments: ['IT Operations'] },
];

export const seedCatalogStep: SeedStep = {
  name: 'catalog',
  async run(ctx: SeedContext) {
    const { deps, actor } = ctx;
    const people = ctx.directory.identities.filter((p) => p.status === 'active' && p.type === 'employee');
    const permissionIds = new Map<string, string>();
    let permissionCount = 0;
    for (const app of APPLICATIONS) {
      const owner = people[Math.floor(ctx.random() * people.length)];
      const ownerId = owner ? ctx.ids.get(owner.key) : undefined;
      const { value } = await createApplication(deps, actor, {
        name: app.name,
        kind: app.kind,
        priority: app.priority,
        description: app.description,
        ownerIds: ownerId ? [ownerId] : [],
      });
      ctx.ids.set(`demo:app:${app.name}`, value.id);
      for (const [name, category, risk] of app.permissions) {
        const created = await createPermission(deps, actor, value.id, { name, category, risk, requestable: true, delegable: risk !== 'critical' });
        permissionIds.set(`${app.name}/${name}`, created.value.id);
        permissionCount += 1;
      }
    }

    const roleIds = new Map<string, string>();
    for (const role of ROLES) {
      const { value } = await createRole(deps, actor, {
        name: role.name,
        description: role.description,
        permissionIds: role.permissions.map(([app, permission]) => permissionIds.get(`${app}/${permission}`)!),
        includedRoleIds: (role.includes ?? []).map((name) => roleIds.get(name)!),
      });
      roleIds.set(role.name, value.id);
    }

    // Roles reach departments through unit assignments; everyone gets Employee at the top.
    const unitIdByName = new Map(ctx.directory.units.map((u) => [u.name, ctx.ids.get(u.key)!]));
    let assignments = 0;
    const assign = async (input: Parameters<typeof createAssignment>[2]) => {
      await createAssignment(deps, actor, input);
      assignments += 1;
    };
    const company = ctx.directory.units.find((u) => u.parentKey === null)!;
    await assign({ assignee: { type: 'orgUnit', id: ctx.ids.get(company.key)! }, resource: { type: 'role', id: roleIds.get('Employee')! }, reason: 'birthright' });
    for (const role of ROLES) {
      for (const department of role.departments) {
        const unitId = unitIdByName.get(department);
        if (unitId) await assign({ assignee: { type: 'orgUnit', id: unitId }, resource: { type: 'role', id: roleIds.get(role.name)! }, reason: `${department} needs it` });
      }
    }
    // A few individual grants: release managers, a time-bounded audit access, bills in a company's context.
    const developers = people.filter((p) => p.attributes.department === 'Platform Engineering').slice(0, 2);
    for (const p of developers) {
      await assign({ assignee: { type: 'identity', id: ctx.ids.get(p.key)! }, resource: { type: 'role', id: roleIds.get('Release Manager')! }, reason: 'on-call release duty' });
    }
    const auditor = people[Math.floor(ctx.random() * people.length)];
    if (auditor) {
      const now = deps.now();
      await assign({
        assignee: { type: 'identity', id: ctx.ids.get(auditor.key)! },
        resource: { type: 'permission', id: permissionIds.get('Data Warehouse/pii.read')! },
        validFrom: now.toISOString(),
        validTo: new Date(now.getTime() + 30 * 24 * 3600 * 1000).toISOString(),
        reason: 'quarterly audit, 30 days',
      });
    }
    const treasury = unitIdByName.get('Treasury');
    const clerk = people.find((p) => p.attributes.department === 'Accounting');
    if (treasury && clerk) {
      await assign({
        assignee: { type: 'identity', id: ctx.ids.get(clerk.key)! },
        resource: { type: 'permission', id: permissionIds.get('Trustee App/TrusteeApp_ApproveBill')! },
        context: { type: 'orgUnit', id: treasury },
        reason: 'approves bills of Treasury only',
      });
    }
    ctx.report.push(`${APPLICATIONS.length} applications, ${permissionCount} permissions, ${ROLES.length} roles, ${assignments} assignments`);
  },
};
