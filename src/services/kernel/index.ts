/**
 * The shared kernel of the services: who acts (actor, rights checks), cursor pagination, idempotent POSTs, text search, store readiness.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { requireRight, systemActor, writeMeta } from './actor.ts';
export type { Actor, Caller, RequestMeta } from './actor.ts';
export { findIdempotentResponse, requestFingerprint, saveIdempotentResponse, validIdempotencyKey } from './idempotency.ts';
export { MAX_PAGE_SIZE, openCursor, openPager, sealCursor } from './pagination.ts';
export { cursorKey, findOrCreateKey, revealKey } from './cursor-key.ts';
export type { CursorBinding, Page } from './pagination.ts';
export { withRightsGuard, writeAs } from './rights-guard.ts';
export { containsText, endsWithText, startsWithText } from './text-search.ts';
export { storeReadiness } from './readiness.ts';
export { APPLICATION_DELETE_BLOCKERS, IDENTITY_DELETE_BLOCKERS, ORG_UNIT_DELETE_BLOCKERS, assertNotBlocked, deleteApplicationRecords } from './delete-blockers.ts';
export { getSettings, tenantSettings, updateSettings } from './settings.ts';
export { cancelJobs, DEFAULT_LEASE_MS, jobsOf, MAX_ATTEMPTS, runDueJobs, scheduleJob } from './scheduler.ts';
export type { JobStatusView, NewJob, RunOptions, RunReport } from './scheduler.ts';
export { findTenantByName, listTenants } from './tenants.ts';
export type { TenantRef } from './tenants.ts';
export { addIncludingRoles, chunks, roleEntry } from './role-closure.ts';
export type { RoleContents } from './role-closure.ts';
export { createRateTotals, createSharedRateCounter, storeRateTransport } from './rate-counters.ts';
export type { RateTransport, SharedRateCounter, SharedRateCounterOptions } from './rate-counters.ts';
