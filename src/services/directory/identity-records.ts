/**
 * What an identity is made of: its types and statuses, the fields a caller may set, the
 * record a caller is given (the view and its version), and how a stored row becomes one.
 */
import type { Database } from '../../store/schema.ts';
import type { IdentityView } from './views.ts';

export const IDENTITY_TYPES = ['employee', 'contractor', 'vendor', 'partner', 'service', 'other'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

export const IDENTITY_STATUSES = ['active', 'on_leave', 'terminated'] as const;
export type IdentityStatus = (typeof IDENTITY_STATUSES)[number];

/** Subjects Grantory generates; callers may not choose subjects with this prefix. */
export const GENERATED_SUBJECT_PREFIX = 'grantory:';

export const ATTRIBUTE_LIMITS = { maxCount: 50, keyPattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$', maxValueLength: 500 } as const;

/** An identity with its `version` (the ETag of its current state). */
export interface IdentityRecord {
  identity: IdentityView;
  version: number;
}

/** The fields a caller may set; every one may be absent on update (then it is kept). */
export interface IdentityFields {
  username?: string | null | undefined;
  email?: string | null | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  displayName?: string | null | undefined;
  employeeNumber?: string | null | undefined;
  type?: IdentityType | undefined;
  status?: IdentityStatus | undefined;
  managerId?: string | null | undefined;
  orgUnitId?: string | null | undefined;
  /** Replaces the whole map on update. */
  attributes?: Record<string, string> | undefined;
}

export interface CreateIdentityInput extends IdentityFields {
  /** Generated as `grantory:<number>` when absent. */
  subject?: string | undefined;
}

export interface UpdateIdentityInput extends IdentityFields {
  subject?: string | undefined;
}


export type IdentityRow = Database['identities'];

export function toIdentityView(row: IdentityRow): IdentityView {
  return {
    id: row.id,
    number: Number(row.number),
    subject: row.subject,
    username: row.username,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    displayName: row.display_name,
    employeeNumber: row.employee_number,
    type: row.type,
    status: row.status,
    managerId: row.manager_id,
    orgUnitId: row.org_unit_id,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const toRecord = (row: IdentityRow): IdentityRecord => ({ identity: toIdentityView(row), version: row.version });
