/**
 * The directory: identities, organization units, members, directory listeners and what blocks a delete.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { DIRECTORY_LOOKUP_MAX, createIdentity, deleteIdentity, getIdentity, getIdentityByNumber, listIdentities, lookUpIdentities, setIdentityUnit, setUnitMembers, updateIdentity } from './identities.ts';
export type { DirectoryEntry } from './identities.ts';
export { ATTRIBUTE_LIMITS, IDENTITY_STATUSES, IDENTITY_TYPES } from './identity-records.ts';
export type { CreateIdentityInput, IdentityFields, IdentityRecord, UpdateIdentityInput } from './identity-records.ts';
export { streamMembers } from './members.ts';
export type { MemberView } from './members.ts';
export { UNIT_NAME_PATTERN, changeUnitMembers, createOrgUnit, deleteOrgUnit, findOrgUnitByExternalId, getOrgUnit, getOrgUnitByNumber, listOrgUnits, listUnitMembers, toOrgUnitView, updateOrgUnit } from './org-units.ts';
export type { IdentityView, OrgUnitView } from './views.ts';
export { toIdentityView } from './identity-records.ts';
