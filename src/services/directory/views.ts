/** How identities and organization units are shown: to callers, and to directory listeners. */

export interface IdentityView {
  id: string;
  number: number;
  subject: string;
  username: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  employeeNumber: string | null;
  type: string;
  status: string;
  managerId: string | null;
  orgUnitId: string | null;
  attributes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface OrgUnitView {
  id: string;
  number: number;
  name: string;
  parentId: string | null;
  externalId: string | null;
  path: string;
  /** The unit's manager (an identity id), or null. */
  managerId: string | null;
  createdAt: string;
  updatedAt: string;
}
