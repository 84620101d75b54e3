/**
 * The Permission Assist response bodies (COMPAT.md §2) as the OpenAPI document declares them.
 * They name the fields `mapping.ts` renders; objects stay open (`additionalProperties`) so a
 * field added to the mapping is still sent before it is declared here.
 */
import { Type, type TSchema } from '@sinclair/typebox';

const Text = Type.Union([Type.String(), Type.Null()]);
const open = { additionalProperties: true };

export const PaIdentity = Type.Object(
  {
    id: Type.String(),
    kind: Type.Literal('Identity'),
    number: Type.Integer(),
    firstName: Text,
    lastName: Text,
    emailAddress: Text,
    type: Type.String(),
    title: Text,
    company: Text,
    division: Text,
    department: Text,
    office: Text,
    supervisorName: Text,
    createdDate: Type.String(),
    updatedDate: Type.String(),
    firstSeenDate: Type.String(),
    inactivatedDate: Text,
    status: Type.String({ description: 'Active, Disabled or Removed' }),
  },
  open,
);

export const PaApplicationSummary = Type.Object(
  { id: Type.String(), kind: Type.Literal('Application'), name: Type.String(), priority: Type.String(), isArchived: Type.Boolean(), lastUpdated: Type.String() },
  open,
);

export const PaApplication = Type.Intersect([
  PaApplicationSummary,
  Type.Object(
    {
      number: Type.Integer(),
      description: Text,
      type: Type.String({ description: 'Connected or Managed' }),
      connectorConfiguration: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
      lastImport: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
      lastImportStatus: Text,
    },
    open,
  ),
]);

export const PaImport = Type.Object(
  {
    id: Type.String(),
    kind: Type.Literal('Application Import'),
    number: Type.Integer(),
    type: Type.String(),
    status: Type.String(),
    held: Type.Boolean(),
    heldReason: Text,
    dryRun: Type.Boolean(),
    createdBy: Text,
    createdDate: Type.String(),
    buildStart: Text,
    buildEnd: Text,
    progress: Type.Unknown(),
    log: Type.String(),
    files: Type.Array(Type.Object({ id: Type.String(), fileGroupId: Text, fileGroup: Text, name: Type.String() }, open)),
    metrics: Type.Unknown({ description: 'The counts of a Finished import, else null' }),
    application: Type.Object({ id: Type.String(), kind: Type.Literal('Application'), name: Text }),
  },
  open,
);

export const PaPage = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), totalCount: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer(), totalPages: Type.Integer() });
