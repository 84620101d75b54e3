/** TypeBox schemas of the access routes: validation, types and the OpenAPI document at once. */
import { Type } from '@sinclair/typebox';
import { MAX_BATCH_CHECKS } from '../../services/access/index.ts';

export const Id = Type.String({ minLength: 1, maxLength: 200 });
export const DateTime = Type.String({ format: 'date-time' });
export const NullableDateTime = Type.Union([DateTime, Type.Null()]);
export const Revision = Type.Integer({ description: 'The change-feed revision the answer reflects (or the write committed as)' });

export const ContextType = Type.Union([Type.Literal('all'), Type.Literal('orgUnit'), Type.Literal('identity'), Type.Literal('object')]);
export const Context = Type.Object(
  {
    type: ContextType,
    id: Type.Optional(Type.Union([Id, Type.Null()], { description: 'Unit id, identity id or application object key; absent for all' })),
  },
  { additionalProperties: false },
);
export const ContextOut = Type.Object({ type: ContextType, id: Type.Union([Type.String(), Type.Null()]) });
export const Space = Type.Union([Type.Literal('assigned'), Type.Literal('provisioned')], { description: 'assigned (IAM) or provisioned (IdP) space; default assigned' });

export const Assignee = Type.Object({ type: Type.Union([Type.Literal('identity'), Type.Literal('orgUnit')]), id: Id }, { additionalProperties: false });
export const Resource = Type.Object({ type: Type.Union([Type.Literal('permission'), Type.Literal('role')]), id: Id }, { additionalProperties: false });

export const Assignment = Type.Object({
  id: Type.String(),
  assignee: Assignee,
  resource: Resource,
  context: ContextOut,
  source: Type.String({ description: 'direct, rule, delegation or request' }),
  state: Type.String({ description: 'active, paused or revoked' }),
  validFrom: NullableDateTime,
  validTo: NullableDateTime,
  delegatedFromId: Type.Union([Type.String(), Type.Null()]),
  delegatorId: Type.Union([Type.String(), Type.Null()]),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
});

export const HeldVia = Type.Union([
  Type.Object({
    kind: Type.Literal('assignment'),
    assignmentId: Type.String(),
    source: Type.String(),
    assignee: Assignee,
    resource: Resource,
    context: ContextOut,
    delegatedFromId: Type.Union([Type.String(), Type.Null()]),
    ruleId: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Object({
    kind: Type.Literal('account'),
    accountId: Type.String(),
    accountName: Type.String(),
    context: ContextOut,
    observedAt: Type.String(),
    importId: Type.Union([Type.String(), Type.Null()]),
  }),
]);

export const HeldPermission = Type.Object({
  permissionId: Type.String(),
  permissionName: Type.String(),
  applicationId: Type.String(),
  applicationName: Type.String(),
  via: Type.Array(HeldVia),
});

export const CheckBody = Type.Object(
  {
    identity: Type.String({ minLength: 1, maxLength: 200, description: 'Identity id or subject' }),
    application: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Application id or name (needed when permission is a name)' })),
    permission: Type.String({ minLength: 1, maxLength: 200, description: 'Permission id, or name within the application' }),
    context: Type.Optional(Context),
    space: Type.Optional(Space),
  },
  { additionalProperties: false },
);

/** The body of `POST /check/batch` (read from its text without JSON.parse when it can be: check-batch-body.ts). */
export const CheckBatchBody = Type.Object({ checks: Type.Array(CheckBody, { minItems: 1, maxItems: MAX_BATCH_CHECKS }) }, { additionalProperties: false });

export const MinRevision = Type.Optional(Type.Integer({ minimum: 0, description: 'Wait (up to 5 s, then 503 with Retry-After) until this node has applied this revision; a revision the tenant has not committed yet is a 422' }));

export const RuleCondition = Type.Object(
  {
    attributes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            equals: Type.Optional(Type.String({ maxLength: 500 })),
            in: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { minItems: 1, maxItems: 100 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
    orgUnitSubtree: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const AssignmentRule = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  condition: RuleCondition,
  resources: Type.Array(Resource),
  context: ContextOut,
  enabled: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
});

export const RuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    condition: RuleCondition,
    resources: Type.Array(Resource, { minItems: 1, maxItems: 50 }),
    context: Type.Optional(Context),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const Account = Type.Object({
  id: Type.String(),
  applicationId: Type.String(),
  name: Type.String(),
  identityId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  observedAt: Type.String(),
  importId: Type.Union([Type.String(), Type.Null()]),
  grants: Type.Array(Type.Object({ permissionId: Type.String(), permissionName: Type.String(), context: ContextOut })),
  createdAt: DateTime,
  updatedAt: DateTime,
  matching: Type.Optional(
    Type.Object(
      {
        state: Type.String({ description: 'matched, linked, service, ignored, orphan, ambiguous or unmatched (see docs/imports.md)' }),
        candidates: Type.Array(Type.String(), { description: 'Identity ids an ambiguous account matched' }),
        note: Type.Union([Type.String(), Type.Null()]),
      },
      { description: 'How imports matched the account to an identity' },
    ),
  ),
});
