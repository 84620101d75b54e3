/**
 * SCIM 2.0 (RFC 7643/7644) for identity providers: Users are identities, Groups are
 * organization units; filters are answered in SQL, PATCH applied with `scim-patch`, and
 * every write goes through the directory's use cases.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, patchScimGroup, replaceScimGroup } from './groups.ts';
export type { ScimGroup } from './groups.ts';
export { createScimUser, deleteScimUser, getScimUser, listScimUsers, patchScimUser, replaceScimUser, scimUserQueries } from './users.ts';
export type { ScimUser } from './users.ts';
export type { ListQuery as ScimListQuery, ListResult as ScimListResult, ScimMeta } from './resources.ts';
export type { PatchOperation as ScimPatchOperation } from './patch.ts';
export { searchScimResources } from './search.ts';
