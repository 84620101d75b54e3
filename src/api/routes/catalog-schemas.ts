/**
 * Request and response schemas of the catalog routes (applications, permissions, roles).
 * Each is the run-time validation, the handler's type and the OpenAPI document at once.
 */
import { Type } from '@sinclair/typebox';
import { APPLICATION_KINDS, PRIORITIES, RISKS } from '../../services/catalog/index.ts';
import { Nullable, Timestamp } from '../schemas.ts';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Not blank; at most 200 characters' });
const Description = Nullable(Type.String({ maxLength: 2000 }));
const Query = Type.String({ minLength: 1, maxLength: 200, description: 'Case-insensitive part of the name' });

// ---- applications ----

const Kind = Type.Union(APPLICATION_KINDS.map((k) => Type.Literal(k)), {
  description: '`managed`: Grantory is its identity provider; `connected`: an external system observed by imports',
});
const Priority = Type.Union(PRIORITIES.map((p) => Type.Literal(p)));
const OwnerIds = Type.Array(Id('An identity id'), { maxItems: 50, description: 'Identities that own the application (at most 50)' });
const Connector = Nullable(
  Type.Object(
    {},
    {
      additionalProperties: true,
      maxProperties: 50,
      description:
        'Import configuration (see the imports documentation), at most 64 KiB of JSON: validated as imports read it (a 400 names each bad field) and stored normalised, with defaults and file group ids.',
    },
  ),
);

export const Application = Type.Object({
  id: Type.String(),
  number: Type.Integer({ description: 'Stable integer id (vendor profiles use it)' }),
  name: Type.String(),
  kind: Kind,
  description: Nullable(Type.String()),
  ownerIds: Type.Array(Type.String()),
  priority: Priority,
  archived: Type.Boolean(),
  builtin: Type.Boolean({ description: "The built-in `grantory` application (Grantory's own rights); read-only" }),
  connector: Connector,
  lastImport: Type.Union(
    [
      Type.Object({
        id: Type.String(),
        number: Type.Integer(),
        status: Type.String({ description: 'Pending, Running, Held, Finished, Failed, Canceling or Canceled' }),
        dryRun: Type.Boolean(),
        createdAt: Type.String({ format: 'date-time' }),
        updatedAt: Type.String({ format: 'date-time' }),
      }),
      Type.Null(),
    ],
    { description: "The application's most recent import; null before its first" },
  ),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const applicationFields = {
  kind: Type.Optional(Kind),
  description: Type.Optional(Description),
  ownerIds: Type.Optional(OwnerIds),
  priority: Type.Optional(Priority),
  archived: Type.Optional(Type.Boolean()),
  connector: Type.Optional(Connector),
};

export const CreateApplication = Type.Object(
  { name: Name, ...applicationFields },
  { additionalProperties: false, examples: [{ name: 'Core Banking', kind: 'connected', priority: 'High', description: 'Ledger and payments' }] },
);

export const PatchApplication = Type.Object(
  { name: Type.Optional(Name), ...applicationFields },
  { additionalProperties: false, minProperties: 1, examples: [{ archived: true }] },
);

export const ApplicationListQuery = {
  q: Type.Optional(Query),
  kind: Type.Optional(Kind),
  archived: Type.Optional(Type.Boolean()),
};

// ---- permissions ----

const Risk = Type.Union(RISKS.map((r) => Type.Literal(r)));

export const Permission = Type.Object({
  id: Type.String(),
  number: Type.Integer({ description: 'Stable integer id (the Checkmarx profile uses it)' }),
  applicationId: Type.String(),
  name: Type.String(),
  category: Nullable(Type.String()),
  description: Nullable(Type.String()),
  risk: Risk,
  requestable: Type.Boolean({ description: 'May be asked for in an access request' }),
  delegable: Type.Boolean({ description: 'A holder may delegate it' }),
  builtin: Type.Boolean({ description: 'A Grantory right (permission of the built-in application); read-only' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const permissionFields = {
  category: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  description: Type.Optional(Description),
  risk: Type.Optional(Risk),
  requestable: Type.Optional(Type.Boolean()),
  delegable: Type.Optional(Type.Boolean()),
};

export const CreatePermission = Type.Object(
  { name: Name, ...permissionFields },
  { additionalProperties: false, examples: [{ name: 'approve-payments', category: 'Payments', risk: 'high' }] },
);

export const PatchPermission = Type.Object(
  { name: Type.Optional(Name), ...permissionFields },
  { additionalProperties: false, minProperties: 1, examples: [{ risk: 'critical', requestable: false }] },
);

export const PermissionListQuery = {
  q: Type.Optional(Query),
  category: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};

// ---- roles ----

export const Role = Type.Object({
  id: Type.String(),
  number: Type.Integer({ description: 'Stable integer id (the Checkmarx profile uses it)' }),
  name: Type.String(),
  description: Nullable(Type.String()),
  system: Type.Boolean({ description: 'Defined by Grantory (e.g. Admin); read-only' }),
  permissionIds: Type.Array(Type.String(), { description: 'Permissions the role holds directly' }),
  includedRoleIds: Type.Array(Type.String(), { description: 'Roles whose permissions it also gives' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const roleFields = {
  description: Type.Optional(Description),
  permissionIds: Type.Optional(Type.Array(Id('A permission id'), { maxItems: 1000, description: 'At most 1,000, each once' })),
  includedRoleIds: Type.Optional(Type.Array(Id('A role id'), { maxItems: 100, description: 'At most 100, each once; no cycles' })),
};

export const CreateRole = Type.Object(
  { name: Name, ...roleFields },
  { additionalProperties: false, examples: [{ name: 'Payments approver', permissionIds: ['(permission id)'] }] },
);

export const PatchRole = Type.Object(
  { name: Type.Optional(Name), ...roleFields },
  { additionalProperties: false, minProperties: 1, examples: [{ includedRoleIds: ['(role id)'] }] },
);

export const RoleListQuery = {
  q: Type.Optional(Query),
  permissionId: Type.Optional(Id('Only roles that hold this permission directly')),
};
