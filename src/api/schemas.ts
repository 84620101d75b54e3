/**
 * Schema pieces shared by the native routes. Each schema validates at run time, types the
 * handler and becomes the OpenAPI document — one source for all three.
 */
import { Type, type TSchema } from '@sinclair/typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'The object id' }) });

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size (1-500)' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The `nextCursor` of the previous page' })),
};

export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String({ description: 'Cursor of the next page; null on the last page' })),
  });

export const RevisionOnly = Type.Object({ revision: Type.Integer({ description: 'The revision this write committed as' }) });

/** Adds `revision` to a write's response schema. */
export const Written = <T extends TSchema>(schema: T) => Type.Intersect([schema, RevisionOnly]);

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag read earlier; the write fails with 412 if the object changed since' })),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Retry-safe POST: the same key and body return the first response again' }),
  ),
});

export const Timestamp = Type.String({ format: 'date-time' });
