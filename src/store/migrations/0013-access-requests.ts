import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Access requests and approvals (issue 13): approval policies; the approval steps and tasks
 * of a subject (an access request or a personnel event), resolved when the subject opens;
 * and access requests with their provisioning state. The story of a request (comments,
 * activity) is in `workflow_entries` (0011-workflow-core).
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('approval_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applies_to', 'text', (c) => c.notNull())
    .addColumn('steps', 'text', (c) => c.notNull())
    .addColumn('auto_approve', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('approval_policies_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('approval_steps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('approver', 'text', (c) => c.notNull())
    .addColumn('quorum', 'integer', (c) => c.notNull())
    .addColumn('due_days', 'integer')
    .addColumn('escalate_to', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('opened_at', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('escalated_at', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addUniqueConstraint('approval_steps_position', ['tenant_id', 'subject_kind', 'subject_id', 'position'])
    .execute();

  await db.schema
    .createTable('approval_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('approver_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('comment', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('approval_tasks_approver', ['tenant_id', 'step_id', 'approver_id'])
    .execute();
  // The inbox: an approver's open tasks, oldest due first.
  await db.schema.createIndex('approval_tasks_inbox').on('approval_tasks').columns(['tenant_id', 'approver_id', 'status', 'due_at']).execute();
  await db.schema.createIndex('approval_tasks_subject').on('approval_tasks').columns(['tenant_id', 'subject_id']).execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('application_id', 'text')
    .addColumn('context_type', 'text', (c) => c.notNull())
    .addColumn('context_id', 'text')
    .addColumn('valid_from', 'text')
    .addColumn('valid_to', 'text')
    .addColumn('justification', 'text')
    .addColumn('requester_id', 'text')
    .addColumn('requester_name', 'text', (c) => c.notNull())
    .addColumn('assignment_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('provisioning_status', 'text', (c) => c.notNull())
    .addColumn('provisioning_assignment_id', 'text')
    .addColumn('provisioning_observed_at', 'text')
    .addColumn('provisioning_imports_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provisioning_checks', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sod_conflicts', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('policy_id', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('access_requests_number', ['tenant_id', 'number'])
    .execute();
  await db.schema.createIndex('access_requests_status').on('access_requests').columns(['tenant_id', 'status', 'number']).execute();
  await db.schema.createIndex('access_requests_target').on('access_requests').columns(['tenant_id', 'target_id', 'number']).execute();
  await db.schema.createIndex('access_requests_requester').on('access_requests').columns(['tenant_id', 'requester_id', 'number']).execute();
  await db.schema.createIndex('access_requests_provisioning').on('access_requests').columns(['tenant_id', 'provisioning_status']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
