/**
 * Uploaded imports: the parts of a multipart upload are streamed to disk, checked against the
 * application's file groups, and recorded as a new import in one audited write.
 */
import { requireRight, writeAs, type Actor } from '../kernel/index.ts';
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../domain/errors.ts';
import type { ServiceDeps } from '../deps.ts';
import { importableConnector, requireApplication } from './connectors.ts';
import { importSettings, insertImport, uploadFolder } from './imports.ts';
import { toImportView, type ImportFile, type ImportType, type ImportView } from './views.ts';

/** One part of a multipart upload, as the HTTP layer hands it over. */
export type UploadPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; filename: string; stream: NodeJS.ReadableStream & { truncated?: boolean } };

export interface UploadOptions {
  /** The upload's type: API from the HTTP API. */
  type: ImportType;
  /** An application id given outside the parts (e.g. a query parameter). */
  applicationId?: string | undefined;
  dryRun?: boolean | undefined;
}

/**
 * Receives an upload: every file part is streamed to disk (never held in memory) under a
 * fresh folder, then checked against the application's file groups: each part must be
 * named by a file group id, non-empty, and every required group present.
 */
export async function uploadImport(
  deps: ServiceDeps,
  actor: Actor,
  parts: AsyncIterable<UploadPart>,
  options: UploadOptions,
): Promise<{ value: ImportView; revision: number }> {
  requireRight(actor, 'manage-imports');
  const settings = importSettings(deps);
  const importId = randomUUID();
  const staging = await uploadFolder(settings, `tmp-${importId}`);
  await mkdir(staging, { recursive: true });
  let committed = false;
  try {
    const fields = new Map<string, string>();
    const received: { part: string; filename: string; size: number; file: string }[] = [];
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    for await (const part of parts) {
      if (part.kind === 'field') {
        fields.set(part.name, part.value);
        continue;
      }
      if (received.some((r) => r.part === part.name)) {
        part.stream.resume();
        throw new AppError('validation_failed', `the part "${part.name}" was sent twice`, { errors: [{ field: part.name, message: 'was sent twice' }] });
      }
      const file = join(staging, `part-${received.length}`);
      let size = 0;
      part.stream.on('data', (chunk: Buffer) => void (size += chunk.length));
      await pipeline(part.stream, createWriteStream(file));
      if (part.stream.truncated) {
        throw new AppError('payload_too_large', `the file "${part.filename}" (${part.name}) exceeds the upload limit of ${settings.uploadLimit} bytes`, {
          errors: [{ field: part.name, message: `exceeds ${settings.uploadLimit} bytes` }],
        });
      }
      received.push({ part: part.name, filename: part.filename, size, file });
    }

    const applicationId = options.applicationId ?? fields.get('applicationId');
    if (!applicationId) throw new AppError('validation_failed', 'applicationId is required', { errors: [{ field: 'applicationId', message: 'is required' }] });
    const dryRunField = fields.get('dryRun');
    const dryRun = options.dryRun ?? (dryRunField === 'true' || dryRunField === '1');
    const scope = deps.store.read(actor.caller.tenantId);
    const app = await requireApplication(scope, applicationId);
    const connector = importableConnector(app);
    const errors: { field: string; message: string }[] = [];
    for (const r of received) {
      const group = connector.fileGroups.find((g) => g.id === r.part.toLowerCase());
      if (!group) errors.push({ field: r.part, message: 'is not the id of a file group of the application' });
      else if (r.size === 0) errors.push({ field: r.part, message: `the file for ${group.name} is empty` });
    }
    for (const group of connector.fileGroups) {
      if (group.required && !received.some((r) => r.part.toLowerCase() === group.id)) {
        errors.push({ field: group.id, message: `a file for the required file group ${group.name} is missing` });
      }
    }
    for (const name of fields.keys()) {
      if (name !== 'applicationId' && name !== 'dryRun') errors.push({ field: name, message: 'is not a known field' });
    }
    if (errors.length) throw new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });

    const files: ImportFile[] = [];
    for (const r of received) {
      const group = connector.fileGroups.find((g) => g.id === r.part.toLowerCase())!;
      await rename(r.file, join(staging, group.id));
      files.push({ id: randomUUID(), fileGroupId: group.id, fileGroup: group.name, name: safeFileName(r.filename) || group.name, size: r.size });
    }
    const final = await uploadFolder(settings, importId);
    await rename(staging, final);
    try {
      const result = await writeAs(deps, actor, async (tx) => {
        const row = await insertImport(tx, actor, { id: importId, applicationId: app.id, type: options.type, source: 'upload', dryRun, files });
        return toImportView(row);
      });
      committed = true;
      settings.notify?.();
      return result;
    } finally {
      if (!committed) await rm(final, { recursive: true, force: true });
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function safeFileName(name: string): string {
  return name.replace(/[/\\\0]/g, '_').slice(0, 200);
}
