/** TypeBox schemas of the workflow routes (approval policies, access requests, the inbox). */
import { Type } from '@sinclair/typebox';
import { Context, ContextOut, DateTime, Id, NullableDateTime, Resource } from './access-schemas.ts';

const Text = Type.Union([Type.String(), Type.Null()]);
const open = { additionalProperties: true };
const Risk = Type.Union(['low', 'medium', 'high', 'critical'].map((r) => Type.Literal(r)));
const Ids = Type.Array(Id, { maxItems: 500 });

export const AppliesTo = Type.Object(
  {
    applicationIds: Type.Optional(Ids),
    permissionIds: Type.Optional(Ids),
    roleIds: Type.Optional(Ids),
    minRisk: Type.Optional(Risk),
    personnelEventTypes: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 4, description: 'onboard, offboard, role_transition, leave_of_absence' })),
  },
  { additionalProperties: false },
);

const EscalateTo = Type.Object(
  { identityId: Type.Optional(Id), step: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Another step of the policy, by name: its approvers' })) },
  { additionalProperties: false, description: 'Exactly one of identityId or step' },
);

export const PolicyStepIn = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    approver: Type.String({ minLength: 1, maxLength: 40, description: 'manager, application_owner, identity, org_unit_manager or role_holders' }),
    id: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The identity, unit or role the approver kind names' })),
    quorum: Type.Optional(Type.Integer({ description: 'Approvals needed (default 1; at most the approvers the step resolves to)' })),
    dueDays: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Days after the step opens; then it escalates' })),
    escalateTo: Type.Optional(Type.Union([EscalateTo, Type.Null()])),
  },
  { additionalProperties: false },
);

export const CreatePolicy = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    appliesTo: Type.Optional(AppliesTo),
    steps: Type.Array(PolicyStepIn, { maxItems: 20 }),
    autoApprove: Type.Optional(Type.Union([Risk, Type.Null()], { description: 'Items at or below this risk are approved at once' })),
  },
  { additionalProperties: false },
);

export const PatchPolicy = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    appliesTo: Type.Optional(AppliesTo),
    steps: Type.Optional(Type.Array(PolicyStepIn, { maxItems: 20 })),
    autoApprove: Type.Optional(Type.Union([Risk, Type.Null()])),
  },
  { additionalProperties: false },
);

export const Policy = Type.Object({
  id: Type.String(),
  name: Type.String(),
  appliesTo: Type.Object({}, open),
  steps: Type.Array(
    Type.Object({
      name: Type.String(),
      approver: Type.String(),
      id: Text,
      quorum: Type.Integer(),
      dueDays: Type.Union([Type.Integer(), Type.Null()]),
      escalateTo: Type.Union([Type.Object({}, open), Type.Null()]),
    }),
  ),
  autoApprove: Text,
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
});

export const RequestAction = Type.Union(['add', 'change', 'remove', 'suspend', 'restore'].map((a) => Type.Literal(a)));
export const RequestStatus = Type.Union(['pending', 'open', 'scheduled', 'completed', 'rejected', 'canceled', 'failed'].map((a) => Type.Literal(a)));

export const CreateRequest = Type.Object(
  {
    action: RequestAction,
    targetIdentityId: Type.Optional(Id),
    targetOrgUnitId: Type.Optional(Id),
    resource: Type.Optional(Resource),
    assignmentId: Type.Optional(Id),
    context: Type.Optional(Context),
    validFrom: Type.Optional(Type.Union([DateTime, Type.Null()])),
    validTo: Type.Optional(Type.Union([DateTime, Type.Null()])),
    justification: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const CommentBody = Type.Object({ comment: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])) }, { additionalProperties: false });
export const CommentRequired = Type.Object({ comment: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false });

const Step = Type.Object({
  id: Type.String(),
  position: Type.Integer(),
  name: Type.String(),
  approver: Type.Object({ kind: Type.String(), id: Text }),
  quorum: Type.Integer(),
  status: Type.String({ description: 'waiting, open, approved, rejected, withdrawn' }),
  approvers: Type.Array(Type.Object({ identityId: Type.String(), name: Text, status: Type.String(), via: Type.String(), decidedAt: Text, comment: Text })),
  decision: Text,
  decidedBy: Text,
  decidedAt: Text,
  comment: Text,
  dueAt: Text,
  escalatedAt: Text,
});

const summaryFields = {
  id: Type.String(),
  number: Type.Integer(),
  action: Type.String(),
  targetIdentityId: Text,
  targetOrgUnitId: Text,
  target: Type.Object({ type: Type.String(), id: Type.String(), name: Text }),
  resource: Type.Object({ type: Type.String(), id: Type.String(), name: Text }),
  applicationId: Text,
  context: ContextOut,
  validFrom: NullableDateTime,
  validTo: NullableDateTime,
  justification: Text,
  requesterId: Text,
  requesterName: Type.String(),
  assignmentId: Text,
  status: Type.String({ description: 'pending, open, scheduled, completed, rejected, canceled, failed' }),
  policyId: Text,
  provisioning: Type.Object({ status: Type.String({ description: 'not_needed, pending, provisioned, verified, failed' }), assignmentId: Text, observedAt: Text, importsSeen: Type.Integer() }),
  sodConflicts: Type.Array(Type.Object({}, open)),
  createdAt: DateTime,
  updatedAt: DateTime,
  closedAt: Text,
};

export const RequestSummary = Type.Object(summaryFields);
export const RequestDetail = Type.Object({
  ...summaryFields,
  steps: Type.Array(Step),
  comments: Type.Array(Type.Object({}, open)),
  activity: Type.Array(Type.Object({}, open)),
  relatedReviewItems: Type.Array(Type.Object({}, open)),
});

export const RequestListQuery = Type.Object(
  {
    status: Type.Optional(RequestStatus),
    targetIdentityId: Type.Optional(Id),
    targetOrgUnitId: Type.Optional(Id),
    applicationId: Type.Optional(Id),
    requesterId: Type.Optional(Id),
    action: Type.Optional(RequestAction),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const InboxItem = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'access_request or personnel_event' }),
  requestId: Type.Optional(Type.String()),
  eventId: Type.Optional(Type.String()),
  step: Type.String(),
  dueAt: Text,
  createdAt: DateTime,
  via: Type.String({ description: 'policy, or escalation' }),
});
