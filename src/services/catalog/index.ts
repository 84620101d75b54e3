/**
 * The catalog: applications, their permissions, and roles.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { APPLICATION_KINDS, PRIORITIES, createApplication, deleteApplication, getApplication, getApplicationByNumber, lastImportsOf, listApplications, updateApplication } from './applications.ts';
export { CATALOG_READ_RIGHTS, ROLE_READ_RIGHTS } from './common.ts';
export { RISKS, createPermission, deletePermission, getPermission, getPermissionByNumber, listPermissions, permissionIdsOfNumbers, permissionNumbersOfIds, permissionsOfIds, permissionsOfNumbers, rightPermissions, updatePermission } from './permissions.ts';
export type { PermissionView } from './permissions.ts';
export { createRole, deleteRole, getRole, getRoleByNumber, listRoles, roleIdsOfNumbers, roleNumbersOfIds, updateRole } from './roles.ts';
export type { RoleView } from './roles.ts';
