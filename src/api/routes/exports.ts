/**
 * `/exports/...`: streamed exports. `format` (ndjson, csv, json) or the Accept header picks
 * the representation; the body starts at once and is sent as it is read.
 */
import { Readable } from 'node:stream';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../deps.ts';
import { AppError } from '../../domain/errors.ts';
import { EXPORT_FORMATS, negotiateExportFormat, type ExportFormat } from '../../domain/export-format.ts';
import { exportAuditEvents, exportEffectivePermissions, exportPermissionConfiguration, type ExportStream } from '../../services/audit/index.ts';
import { actorOf } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { MinRevision } from './access-schemas.ts';
import { AuditEvent, AuditFilterQuery, Checkpoint } from './audit.ts';
import { errorResponses } from '../error-responses.ts';
import { Nullable } from '../schemas.ts';

const Format = Type.Optional(Type.Union(EXPORT_FORMATS.map((f) => Type.Literal(f)), { description: 'Wins over the Accept header; default ndjson' }));

/** NDJSON and CSV are text, one record a line; JSON is one document (`json`). */
const streamed = (description: string, json: TSchema, options: { csv: boolean } = { csv: true }) => ({
  200: {
    description,
    content: {
      'application/x-ndjson': { schema: Type.String({ description: 'One JSON record a line' }) },
      ...(options.csv ? { 'text/csv': { schema: Type.String({ description: 'A header line, then one record a line' }) } } : {}),
      'application/json': { schema: json },
    },
  },
  ...errorResponses(406),
});

const AuditExportJson = Type.Object({
  tenant: Type.String(),
  filter: Type.Record(Type.String(), Type.Unknown()),
  events: Type.Array(AuditEvent),
  checkpoints: Type.Array(Checkpoint),
  publicKeys: Type.Array(Type.Object({ keyId: Type.String(), algorithm: Type.String(), publicKey: Type.String({ description: 'SPKI PEM' }) })),
});

const ConfigurationRecord = Type.Object(
  { recordType: Type.Union([Type.Literal('application'), Type.Literal('permission'), Type.Literal('role'), Type.Literal('assignmentRule')]), id: Type.String() },
  { additionalProperties: true, description: 'The fields of the record type (as NDJSON)' },
);

const ConfigurationJson = Type.Object({ tenant: Type.String(), records: Type.Array(ConfigurationRecord) });

const EffectivePermissionRow = Type.Object({
  identityId: Type.String(),
  subject: Type.String(),
  username: Nullable(Type.String()),
  email: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  unitPath: Nullable(Type.String({ description: "The identity's organization unit: names from the root down", examples: ['Acme/Finance/Payables'] })),
  applicationId: Type.String(),
  application: Type.String(),
  permissionId: Type.String(),
  permission: Type.String(),
  contextType: Type.String(),
  contextId: Nullable(Type.String()),
  contextName: Nullable(Type.String({ description: "The context's unit path or application name", examples: ['Acme/Finance'] })),
  via: Type.Array(Type.String(), { description: 'The assignments (or accounts) behind it' }),
  viaNames: Type.Array(Type.String({ examples: ['role Finance approver, unit Acme/Finance'] }), { description: 'What each of via is: the role (or direct), the unit it comes through, its delegator, an assignment rule; or the account' }),
});

function formatOf(request: FastifyRequest, format: string | undefined, allowed?: readonly ExportFormat[]): ExportFormat {
  const picked = negotiateExportFormat(format, request.headers.accept, allowed);
  if (!picked) throw new AppError('not_acceptable', `send format=${(allowed ?? EXPORT_FORMATS).join('|')} or an Accept header naming one`);
  return picked;
}

function send(reply: FastifyReply, stream: ExportStream): FastifyReply {
  if (stream.revision !== undefined) reply.header('x-grantory-revision', String(stream.revision));
  return reply
    .type(stream.contentType)
    .header('content-disposition', `attachment; filename="${stream.filename}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(stream.chunks));
}

export function registerExportRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/exports/audit-events',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Exports'],
        summary: 'Export the audit events of a time range, with the signed checkpoints that cover them (NDJSON, CSV or JSON)',
        querystring: Type.Object({ ...AuditFilterQuery, format: Format }),
        response: streamed('NDJSON: event lines (recordType "event") then checkpoint lines; JSON: {tenant, filter, events, checkpoints, publicKeys}; CSV: events', AuditExportJson),
      },
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      return send(reply, await exportAuditEvents(sd, actorOf(request), { filter, format: formatOf(request, format) }));
    },
  );

  app.get(
    '/exports/permission-configuration',
    {
      config: needs('read-permissions-any-application', 'manage-roles', 'manage-applications'),
      schema: {
        tags: ['Exports'],
        summary: 'Export applications, permissions, roles and assignment rules (NDJSON or JSON)',
        querystring: Type.Object({ format: Format }),
        response: streamed('Records with recordType application, permission, role, assignmentRule; JSON: {tenant, records}; CSV is refused (406)', ConfigurationJson, { csv: false }),
      },
    },
    async (request, reply) => {
      const format = formatOf(request, request.query.format, ['ndjson', 'json']);
      return send(reply, await exportPermissionConfiguration(sd, actorOf(request), { format }));
    },
  );

  app.get(
    '/exports/effective-permissions',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Exports'],
        summary: 'Export effective permissions per identity (assigned or provisioned space, as the check API answers), whole tenant or filtered',
        querystring: Type.Object({
          space: Type.Union([Type.Literal('assigned'), Type.Literal('provisioned')], { default: 'assigned' }),
          applicationId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          orgUnitId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Members of this unit and its descendants' })),
          identityId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          minRevision: MinRevision,
          format: Format,
        }),
        response: streamed('One row per identity, permission and context, with the assignments or accounts behind it (via); header x-grantory-revision: the revision the export is a snapshot of (writes committed while it runs do not show)', Type.Array(EffectivePermissionRow)),
      },
    },
    async (request, reply) => {
      const { space, format, minRevision, ...filter } = request.query;
      return send(reply, await exportEffectivePermissions(sd, actorOf(request), { filter, space, minRevision, format: formatOf(request, format) }));
    },
  );
}
