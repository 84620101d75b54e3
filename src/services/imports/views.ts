/** How an import and its parts are shown (native API; the Permission Assist profile maps these). */
import type { ImportMetrics } from '../../domain/import-diff.ts';
import type { Database } from '../../store/schema.ts';

import { FINAL_STATUSES, IMPORT_STATUSES, IMPORT_TYPES, type ImportStatus, type ImportType } from '../../domain/import-status.ts';

export { FINAL_STATUSES, IMPORT_STATUSES, IMPORT_TYPES, type ImportStatus, type ImportType };

export interface ImportFile {
  id: string;
  fileGroupId: string;
  fileGroup: string;
  name: string;
  size: number;
}

export interface LogEntry {
  time: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface ImportView {
  id: string;
  number: number;
  applicationId: string;
  type: ImportType;
  source: 'stage' | 'upload';
  status: ImportStatus;
  dryRun: boolean;
  phase: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  scheduledFor: string | null;
  buildStart: string | null;
  buildEnd: string | null;
  progress: { rowsRead: number; rowsTotal: number | null; bytesRead: number; bytesTotal: number | null };
  files: ImportFile[];
  log: LogEntry[];
  metrics: ImportMetrics | null;
  error: string | null;
  heldReason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

export function toImportView(row: Database['imports']): ImportView {
  return {
    id: row.id,
    number: Number(row.number),
    applicationId: row.application_id,
    type: row.type as ImportType,
    source: row.source as 'stage' | 'upload',
    status: row.status as ImportStatus,
    dryRun: row.dry_run === 1,
    phase: row.phase,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    scheduledFor: row.scheduled_for,
    buildStart: row.build_start,
    buildEnd: row.build_end,
    progress: {
      rowsRead: Number(row.rows_read),
      rowsTotal: row.rows_total === null ? null : Number(row.rows_total),
      bytesRead: Number(row.bytes_read),
      bytesTotal: row.bytes_total === null ? null : Number(row.bytes_total),
    },
    files: JSON.parse(row.files) as ImportFile[],
    log: JSON.parse(row.log) as LogEntry[],
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as ImportMetrics),
    error: row.error,
    heldReason: row.held_reason,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
  };
}

export const MAX_LOG_ENTRIES = 300;

/** Appends to a stored log, keeping it bounded (the first entries and the newest). */
export function appendLog(stored: string, entries: LogEntry[]): string {
  const log = [...(JSON.parse(stored) as LogEntry[]), ...entries];
  if (log.length <= MAX_LOG_ENTRIES) return JSON.stringify(log);
  const head = log.slice(0, 100);
  const tail = log.slice(log.length - (MAX_LOG_ENTRIES - 101));
  return JSON.stringify([...head, { time: tail[0]!.time, level: 'warn', message: `${log.length - head.length - tail.length} log entries omitted` }, ...tail]);
}

export interface ImportChangeView {
  seq: number;
  accountName: string;
  op: 'add' | 'remove' | 'update';
  matchState: string;
  matchRule: string | null;
  identityBefore: string | null;
  identityAfter: string | null;
  statusBefore: string | null;
  statusAfter: string | null;
  grantsAdded: { permission: string; context: string | null }[];
  grantsRemoved: { permission: string; context: string | null }[];
}

export function toChangeView(row: Database['import_changes']): ImportChangeView {
  return {
    seq: Number(row.seq),
    accountName: row.account_name,
    op: row.op as ImportChangeView['op'],
    matchState: row.match_state,
    matchRule: row.match_rule,
    identityBefore: row.identity_before,
    identityAfter: row.identity_after,
    statusBefore: row.status_before,
    statusAfter: row.status_after,
    grantsAdded: JSON.parse(row.grants_added) as ImportChangeView['grantsAdded'],
    grantsRemoved: JSON.parse(row.grants_removed) as ImportChangeView['grantsRemoved'],
  };
}
