/**
 * The invariants an identity's write keeps (see `identities.ts`): identifiers in NFC without
 * invisible characters, the reserved `grantory:` subject prefix, bounded attributes, existing
 * references and no manager cycle, unique subject / username / employee number (and no
 * look-alike username).
 */
import { AppError, type FieldError } from '../../domain/errors.ts';
import { normalizeOptionalIdentifier, startsWithLookAlike } from '../../domain/identifiers.ts';
import { isUniqueViolation, type WriteTx } from '../../store/store.ts';
import { ATTRIBUTE_LIMITS, GENERATED_SUBJECT_PREFIX, type IdentityFields, type IdentityRow } from './identity-records.ts';

/** Longest manager chain walked when looking for a cycle. */
const MAX_MANAGER_CHAIN = 10_000;

/** Usernames, subjects and e-mail addresses in NFC, without invisible characters (400 naming the field). */
export function normalizeIdentifiers<T extends IdentityFields & { subject?: string | undefined }>(input: T): T {
  return {
    ...input,
    subject: normalizeOptionalIdentifier(input.subject, 'subject'),
    username: normalizeOptionalIdentifier(input.username, 'username'),
    email: normalizeOptionalIdentifier(input.email, 'email'),
  };
}

export function assertCallerSubject(subject: string): void {
  if (startsWithLookAlike(subject, GENERATED_SUBJECT_PREFIX)) {
    throw new AppError('validation_failed', `subjects starting with "${GENERATED_SUBJECT_PREFIX}" are reserved for generated subjects`, {
      errors: [{ field: 'subject', message: `must not start with "${GENERATED_SUBJECT_PREFIX}"` }],
    });
  }
}

/** The routes' schema bounds attributes too; this keeps the CLI and jobs within them. */
export function assertAttributes(attributes: Record<string, string> | undefined): void {
  if (!attributes) return;
  const entries = Object.entries(attributes);
  const key = new RegExp(ATTRIBUTE_LIMITS.keyPattern);
  const errors = [
    ...(entries.length > ATTRIBUTE_LIMITS.maxCount ? [{ field: 'attributes', message: `must have at most ${ATTRIBUTE_LIMITS.maxCount} entries` }] : []),
    ...entries
      .filter(([k, v]) => !key.test(k) || typeof v !== 'string' || v.length > ATTRIBUTE_LIMITS.maxValueLength)
      .map(([k]) => ({ field: `attributes.${k}`, message: `needs a key matching ${ATTRIBUTE_LIMITS.keyPattern} and a text value of at most ${ATTRIBUTE_LIMITS.maxValueLength} characters` })),
  ];
  if (errors.length) throw new AppError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/**
 * The unit and manager exist, and the manager chain has no cycle. With `before` (an update),
 * only what changed is checked: an unchanged unit or manager was checked when it was set
 * (a unit with members cannot be deleted, and a cycle needs a changed manager to close).
 */
export async function assertReferences(tx: WriteTx, row: IdentityRow, before?: IdentityRow): Promise<void> {
  if (row.org_unit_id !== null && row.org_unit_id !== before?.org_unit_id) {
    const unit = await tx.db.selectFrom('org_units').select('id').where('id', '=', row.org_unit_id).executeTakeFirst();
    if (!unit) {
      throw new AppError('validation_failed', `organization unit ${row.org_unit_id} does not exist`, {
        errors: [{ field: 'orgUnitId', message: 'does not exist' }],
      });
    }
  }
  if (row.manager_id === null || row.manager_id === before?.manager_id) return;
  // Walk up the new manager's chain: reaching this identity again would close a cycle.
  const chain: { id: string; subject: string }[] = [{ id: row.id, subject: row.subject }];
  let managerId: string | null = row.manager_id;
  while (managerId !== null) {
    if (managerId === row.id) {
      const names = [...chain.map((c) => c.subject), row.subject];
      throw new AppError('conflict', `the manager chain would form a cycle: ${names.join(' → ')}`, {
        details: { cycle: [...chain.map((c) => c.id), row.id] },
      });
    }
    const manager: { id: string; subject: string; manager_id: string | null } | undefined = await tx.db
      .selectFrom('identities')
      .select(['id', 'subject', 'manager_id'])
      .where('id', '=', managerId)
      .executeTakeFirst();
    if (!manager) {
      if (chain.length === 1) {
        throw new AppError('validation_failed', `manager ${managerId} does not exist`, { errors: [{ field: 'managerId', message: 'does not exist' }] });
      }
      return;
    }
    chain.push({ id: manager.id, subject: manager.subject });
    // Chains that were valid when written cannot loop; the bound guards against bad data.
    if (chain.length > MAX_MANAGER_CHAIN) return;
    managerId = manager.manager_id;
  }
}

const UNIQUE_FIELDS = [
  { column: 'subject', field: 'subject' },
  { column: 'username', field: 'username' },
  { column: 'employee_number', field: 'employeeNumber' },
] as const;

/**
 * Names the unique field(s) another identity already holds (409), and a new username that
 * looks like another identity's. Writes are serialized per tenant. With `before` (an update)
 * only changed values are compared: the stored ones are unique already (the database's
 * constraints), and usernames that looked alike before the check existed are kept.
 */
export async function assertUnique(tx: WriteTx, row: IdentityRow, before?: IdentityRow): Promise<void> {
  const taken: FieldError[] = [];
  const usernameChanged = row.username !== before?.username;
  for (const { column, field } of UNIQUE_FIELDS) {
    const value = row[column];
    if (value === null || (before && value === before[column])) continue;
    const other = await tx.db
      .selectFrom('identities')
      .select('id')
      .where(column, '=', value)
      .where('id', '<>', row.id)
      .executeTakeFirst();
    if (other) taken.push({ field, message: `"${value}" is already used by identity ${other.id}` });
  }
  if (usernameChanged && row.username_skeleton !== null && !taken.some((t) => t.field === 'username')) {
    const lookAlike = await tx.db
      .selectFrom('identities')
      .select(['id', 'username'])
      .where('username_skeleton', '=', row.username_skeleton)
      .where('id', '<>', row.id)
      .executeTakeFirst();
    if (lookAlike) taken.push({ field: 'username', message: `"${row.username}" cannot be told apart from "${lookAlike.username}", the username of identity ${lookAlike.id}` });
  }
  if (taken.length) {
    throw new AppError('conflict', `another identity already has this ${taken.map((t) => t.field).join(' and ')}`, {
      errors: taken,
    });
  }
}

/** A unique violation the pre-check could not see (it should not happen) is still a 409. */
export async function insertOrConflict<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('conflict', 'another identity already has this subject, username or employee number');
    throw e;
  }
}
