/**
 * Imports of application accounts: staging, uploads, parsing, the diff and apply, the queue the worker works.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { bulkInsert } from './bulk.ts';
export type { BulkInsert } from './bulk.ts';
export { MATCHING_STATES, listApplicationAccounts, listOrphans, resolveAccount } from './accounts.ts';
export { getApplicationRecord, getIdentityRecord, listApplicationsByPage, listIdentitiesByPage } from './directory-reads.ts';
export type { ApplicationRecord, IdentityRecord } from './directory-reads.ts';
export { cancelImport, importSettings, rejectImport, stageImport, stagedFiles, updateImport } from './imports.ts';
export { findApplication, getConnector, setConnector } from './connectors.ts';
export { getImport, listImportChanges, listImports, listImportsByPage } from './import-reads.ts';
export { uploadImport } from './uploads.ts';
export type { UploadPart } from './uploads.ts';
export { approveImport, importMeta, processImport } from './run.ts';
export { FINAL_STATUSES, IMPORT_STATUSES, appendLog, toImportView } from './views.ts';
export type { ImportView } from './views.ts';
export { claimImport, endAbandonedImports, pendingImports, recordImportHeartbeat, scheduleDueImports, tenantIds } from './queue.ts';
