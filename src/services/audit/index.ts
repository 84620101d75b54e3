/**
 * The audit trail: reading and verifying it, its keys, signed checkpoints, exports, event sinks and delivery.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { checkpointIfChanged, createCheckpoint, listCheckpoints } from './checkpoints.ts';
export { DEFAULT_DELIVERY_OPTIONS, deliverPending } from './delivery.ts';
export type { DeliveryOptions } from './delivery.ts';
export { createEventSink, deleteEventSink, getEventSink, listEventSinks, retryEventSink } from './event-sinks.ts';
export { exportAuditEvents, exportEffectivePermissions, exportPermissionConfiguration } from './exports.ts';
export type { ExportStream } from './exports.ts';
export { cursorPageAuditEvents, listAuditEvents, pageAuditEvents, pageAuthenticationEvents, recordDenial, recordRateLimited, verifyAndRecordAuditTrails, verifyAuditTrail, verifyTenantAudit, lastAuditVerification } from './trail.ts';
export type { RateLimitRefusal } from './trail.ts';
export type { AuditEventView, AuditFilter, AuditVerification, LastAuditVerification, AuthenticationEventView, CheckpointFile } from './trail.ts';
