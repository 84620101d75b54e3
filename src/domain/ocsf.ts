/**
 * Grantory audit events as OCSF 1.3 events (schema.ocsf.io). Each action maps to the class
 * that fits it; what has no closer class is an API Activity. The Grantory fields the class
 * has no place for are kept under `unmapped.grantory`.
 *
 * | Grantory action | OCSF class | activity |
 * | --- | --- | --- |
 * | `identity.create` / `.update` / `.delete` | 3001 Account Change | 1 Create / 99 Other / 6 Delete |
 * | `assignment.*` to an identity | 3005 User Access Management | 1 Assign Privileges (create, resume) / 2 Revoke Privileges (revoke, pause, delete) |
 * | `assignment.*` to an organization unit | 3006 Group Management | 1 Assign Privileges / 2 Revoke Privileges |
 * | `org_unit.create` / `.delete` / `.update` | 3006 Group Management | 6 Create / 5 Delete / 99 Other |
 * | `auth.*` (failed authentication: `auth.failure`) | 3002 Authentication | 1 Logon, status Failure unless the action says success |
 * | `application.*`, `permission.*`, `role.*`, `api_key.*`, `client.*`, `application_key.*`, `assignment_rule.*`, `event_sink.*`, `audit_key.*` | 3004 Entity Management | 1 Create / 3 Update / 4 Delete / 99 Other |
 * | `access.denied` | 6003 API Activity | by HTTP method (1 Create, 2 Read, 3 Update, 4 Delete), status Failure |
 * | anything else | 6003 API Activity | by the action's verb |
 */

import type { AuditEventView } from './audit-event.ts';

export const OCSF_VERSION = '1.3.0';

/** The audit event the mapping reads. */
export type OcsfSource = AuditEventView;

const CLASSES: Record<number, { name: string; category: string }> = {
  3001: { name: 'Account Change', category: 'Identity & Access Management' },
  3002: { name: 'Authentication', category: 'Identity & Access Management' },
  3004: { name: 'Entity Management', category: 'Identity & Access Management' },
  3005: { name: 'User Access Management', category: 'Identity & Access Management' },
  3006: { name: 'Group Management', category: 'Identity & Access Management' },
  6003: { name: 'API Activity', category: 'Application Activity' },
};

const ENTITY_TYPES = new Set(['application', 'permission', 'role', 'api_key', 'client', 'application_key', 'assignment_rule', 'event_sink', 'audit_key', 'signing_key']);

const ACTIVITY_NAMES: Record<number, Record<number, string>> = {
  3001: { 1: 'Create', 6: 'Delete', 99: 'Other' },
  3002: { 1: 'Logon' },
  3004: { 1: 'Create', 3: 'Update', 4: 'Delete', 99: 'Other' },
  3005: { 1: 'Assign Privileges', 2: 'Revoke Privileges' },
  3006: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 5: 'Delete', 6: 'Create', 99: 'Other' },
  6003: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
};

const verbOf = (action: string) => action.slice(action.lastIndexOf('.') + 1);
const crud = (verb: string): number => ({ create: 1, read: 2, update: 3, delete: 4 })[verb] ?? 99;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

interface Mapped {
  classUid: number;
  activityId: number;
  failed: boolean;
  extra: Record<string, unknown>;
}

function classify(e: OcsfSource): Mapped {
  const verb = verbOf(e.action);
  const entity = e.action.slice(0, e.action.lastIndexOf('.'));
  if (entity === 'identity') {
    return { classUid: 3001, activityId: verb === 'create' ? 1 : verb === 'delete' ? 6 : 99, failed: false, extra: { user: { uid: e.targetId, name: (record(e.after).username ?? record(e.before).username ?? null) as unknown } } };
  }
  if (entity === 'assignment') {
    const shape = record(e.after ?? e.before);
    const assignee = record(shape.assignee);
    const resource = record(shape.resource);
    const revoke = ['revoke', 'pause', 'delete', 'expire'].includes(verb);
    const privileges = resource.id ? [`${String(resource.type ?? 'permission')}:${String(resource.id)}`] : [];
    if (assignee.type === 'orgUnit') {
      return { classUid: 3006, activityId: revoke ? 2 : 1, failed: false, extra: { group: { uid: assignee.id ?? null, type: 'orgUnit' }, privileges } };
    }
    return { classUid: 3005, activityId: revoke ? 2 : 1, failed: false, extra: { user: { uid: assignee.id ?? null }, privileges, resource: { uid: resource.id ?? null, type: resource.type ?? null } } };
  }
  if (entity === 'org_unit') {
    const name = (record(e.after).name ?? record(e.before).name ?? null) as unknown;
    return { classUid: 3006, activityId: verb === 'create' ? 6 : verb === 'delete' ? 5 : 99, failed: false, extra: { group: { uid: e.targetId, name, type: 'orgUnit' } } };
  }
  if (entity === 'auth') {
    return { classUid: 3002, activityId: 1, failed: !/success|succeeded/.test(verb), extra: { user: { uid: e.targetId, name: e.actor.name }, auth_protocol: 'Other' } };
  }
  if (ENTITY_TYPES.has(entity)) {
    return { classUid: 3004, activityId: crud(verb), failed: false, extra: { entity: { uid: e.targetId, type: e.targetType } } };
  }
  if (e.action === 'access.denied') {
    const method = String(record(e.after).method ?? 'GET');
    const activityId = ({ POST: 1, GET: 2, HEAD: 2, PUT: 3, PATCH: 3, DELETE: 4 } as Record<string, number>)[method] ?? 99;
    return { classUid: 6003, activityId, failed: true, extra: { api: { operation: e.targetId ?? e.action } } };
  }
  return { classUid: 6003, activityId: crud(verb), failed: false, extra: { api: { operation: e.action } } };
}

/** The OCSF event for a Grantory audit event. */
export function toOcsf(e: OcsfSource, product: { version: string }): Record<string, unknown> {
  const { classUid, activityId, failed, extra } = classify(e);
  const cls = CLASSES[classUid]!;
  const severityId = failed ? 3 : 1;
  return {
    class_uid: classUid,
    class_name: cls.name,
    category_uid: Math.floor(classUid / 1000),
    category_name: cls.category,
    activity_id: activityId,
    activity_name: ACTIVITY_NAMES[classUid]?.[activityId] ?? 'Other',
    type_uid: classUid * 100 + activityId,
    time: Date.parse(e.time),
    severity_id: severityId,
    severity: severityId === 1 ? 'Informational' : 'Medium',
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    message: `${e.action} ${e.targetType}${e.targetId ? ` ${e.targetId}` : ''}`,
    metadata: {
      version: OCSF_VERSION,
      uid: e.id,
      sequence: e.seq,
      log_name: 'audit',
      correlation_uid: e.requestId,
      original_time: e.time,
      product: { name: 'Grantory', vendor_name: 'Grantory', version: product.version },
    },
    actor: {
      user: { uid: e.onBehalfOfId ?? e.actor.id, name: e.actor.name, type: e.actor.type },
      ...(e.actor.id ? { authorizations: [{ decision: failed && e.action === 'access.denied' ? 'Deny' : 'Allow' }] } : {}),
    },
    src_endpoint: { ip: e.sourceIp, ...(e.sourcePort === null ? {} : { port: e.sourcePort }) },
    http_request: { user_agent: e.userAgent },
    ...extra,
    unmapped: {
      grantory: {
        action: e.action,
        targetType: e.targetType,
        targetId: e.targetId,
        actorType: e.actor.type,
        actorId: e.actor.id,
        authorityId: e.authorityId,
        origin: e.origin,
        revision: e.revision,
        before: e.before,
        after: e.after,
        prevHash: e.prevHash,
        hash: e.hash,
      },
    },
  };
}
