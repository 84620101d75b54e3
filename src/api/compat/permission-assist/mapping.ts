/**
 * Permission Assist shapes (COMPAT.md §2) from Grantory's objects, and its error envelope.
 * Where Grantory has no column for a Permission Assist field, the identity's attribute of
 * the same name is used (title, company, division, department, office, firstSeenDate,
 * inactivatedDate).
 */
import { Type } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import { storedConnector, connectorDocument } from '../../../domain/connector.ts';
import { ERROR_CATALOGUE, type AppError, type ErrorCode } from '../../../domain/errors.ts';
import { type ApplicationRecord, type IdentityRecord, toImportView, type ImportView } from '../../../services/imports/index.ts';
import type { Database } from '../../../store/schema.ts';

export const PA_PAGE_SIZE = 50;

const IDENTITY_TYPES: Record<string, string> = {
  employee: 'Employee',
  serviceaccount: 'Service Account',
  service: 'Service Account',
  vendor: 'Vendor',
  shared: 'Shared',
  mailbox: 'Mailbox',
  client: 'Client',
  temporary: 'Temporary',
  administrator: 'Administrator',
  admin: 'Administrator',
  auditor: 'Auditor',
};

export const paIdentityType = (type: string): string => IDENTITY_TYPES[type.toLowerCase().replace(/[\s_-]/g, '')] ?? 'Unknown';

const STATUS: Record<string, string> = { active: 'Active', on_leave: 'Disabled', terminated: 'Removed' };

export function toPaIdentity({ row, managerName }: IdentityRecord) {
  const attrs = JSON.parse(row.attributes) as Record<string, string>;
  const attr = (k: string): string | null => (typeof attrs[k] === 'string' && attrs[k] !== '' ? attrs[k] : null);
  return {
    id: row.id,
    kind: 'Identity' as const,
    number: Number(row.number),
    firstName: row.first_name,
    lastName: row.last_name,
    emailAddress: row.email,
    type: paIdentityType(row.type),
    title: attr('title'),
    company: attr('company'),
    division: attr('division'),
    department: attr('department'),
    office: attr('office') ?? attr('location'),
    supervisorName: managerName,
    createdDate: row.created_at,
    updatedDate: row.updated_at,
    firstSeenDate: attr('firstSeenDate') ?? row.created_at,
    inactivatedDate: attr('inactivatedDate') ?? (row.status === 'active' ? null : row.updated_at),
    status: STATUS[row.status] ?? 'Active',
  };
}

const PRIORITIES = ['None', 'Low', 'Medium', 'High', 'Critical'];
const paPriority = (p: string): string => PRIORITIES.find((x) => x.toLowerCase() === p.toLowerCase()) ?? 'None';

/** Held imports wait for a person: shown as Pending (the vendor has no Held status), with `held: true`. */
export const paStatus = (status: string): string => (status === 'Held' ? 'Pending' : status);

export function toPaApplicationSummary({ row }: ApplicationRecord) {
  return { id: row.id, kind: 'Application' as const, name: row.name, priority: paPriority(row.priority), isArchived: row.archived === 1, lastUpdated: row.updated_at };
}

export function toPaApplication(record: ApplicationRecord) {
  const connector = storedConnector(record.row.connector);
  const last = record.lastImport ? toImportView(record.lastImport) : null;
  return {
    ...toPaApplicationSummary(record),
    number: Number(record.row.number),
    description: record.row.description,
    type: record.row.kind === 'connected' ? 'Connected' : 'Managed',
    connectorConfiguration: connector ? connectorDocument(connector) : null,
    lastImport: last
      ? { id: last.id, number: last.number, type: last.type, status: paStatus(last.status), buildStart: last.buildStart, buildEnd: last.buildEnd }
      : null,
    lastImportStatus: last ? paStatus(last.status) : null,
  };
}

export function toPaImport(view: ImportView, app: Pick<Database['applications'], 'id' | 'name'> | null) {
  return {
    id: view.id,
    kind: 'Application Import' as const,
    number: view.number,
    type: view.type,
    status: paStatus(view.status),
    held: view.status === 'Held',
    heldReason: view.heldReason,
    dryRun: view.dryRun,
    createdBy: view.createdBy,
    createdDate: view.createdAt,
    buildStart: view.buildStart,
    buildEnd: view.buildEnd,
    progress: view.progress,
    log: view.log.map((l) => `${l.time} ${l.level.toUpperCase()} ${l.message}`).join('\n'),
    files: view.files.map((f) => ({ id: f.id, fileGroupId: f.fileGroupId, fileGroup: f.fileGroup, name: f.name })),
    metrics: view.status === 'Finished' ? view.metrics : null,
    application: app ? { id: app.id, kind: 'Application' as const, name: app.name } : { id: view.applicationId, kind: 'Application' as const, name: null },
  };
}

export function paPage<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, totalCount: total, page, pageSize, totalPages: Math.max(1, Math.ceil(total / pageSize)) };
}

/** Permission Assist's `error` and status for each code (an `internal_error` of a create is `creation_failed`). */
const PA_CODES: Record<ErrorCode, [string, number]> = {
  validation_failed: ['validation_error', 400],
  malformed_json: ['validation_error', 400],
  invalid_cursor: ['validation_error', 400],
  payload_too_large: ['validation_error', 400],
  unsupported_media_type: ['validation_error', 400],
  unauthenticated: ['unauthorized', 401],
  forbidden: ['forbidden', 403],
  csrf_token_invalid: ['forbidden', 403],
  not_found: ['not_found', 404],
  route_not_found: ['not_found', 404],
  method_not_allowed: ['method_not_allowed', 405],
  not_acceptable: ['not_acceptable', 406],
  conflict: ['conflict', 409],
  precondition_failed: ['conflict', 409],
  unprocessable: ['unprocessable_entity', 422],
  idempotency_mismatch: ['unprocessable_entity', 422],
  precondition_required: ['precondition_required', 428],
  rate_limited: ['rate_limited', 429],
  internal_error: ['server_error', 500],
  not_ready: ['not_ready', 503],
};

/** The status this profile answers where Grantory answers `status` (e.g. 413 and 415 are 400 here). */
export function paStatusOf(status: number): number {
  const code = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((c) => ERROR_CATALOGUE[c].status === status);
  return (code && PA_CODES[code]?.[1]) ?? status;
}

/** The profile's error body (as {@link paError} renders it). */
export const PaErrorBody = Type.Object({
  error: Type.String({ description: 'validation_error, unauthorized, forbidden, not_found, conflict, unprocessable_entity, ...' }),
  message: Type.String(),
  correlationId: Type.String(),
  errors: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
});

/** The correlation id: the request id's 32 hex digits when it is a UUID, else fresh ones. */
export function correlationIdOf(requestId: string): string {
  const hex = requestId.replace(/-/g, '');
  return /^[0-9a-f]{32}$/i.test(hex) ? hex.toLowerCase() : randomUUID().replace(/-/g, '');
}

export function paError(error: AppError, requestId: string, creating: boolean): { status: number; body: { error: string; message: string; correlationId: string; errors: { field: string; message: string }[] } } {
  const [mapped, status] = PA_CODES[error.code];
  const code = error.code === 'internal_error' && creating ? 'creation_failed' : mapped;
  return { status, body: { error: code, message: error.message, correlationId: correlationIdOf(requestId), errors: error.errors ?? [] } };
}
