/** Schemas API keys and application keys share: their listed fields and their create body. */
import { Type, type TSchema } from '@sinclair/typebox';

/** The identity on whose authority a key or client was made (its current rights cap the credential's). */
export const AUTHORITY_ID = Type.Union([Type.String(), Type.Null()], {
  description: "The identity on whose authority it was made: its current rights cap the credential's on every request (null: made by the system, not capped)",
});

/** The fields of a listed key (never its secret). */
export const KEY_FIELDS = {
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the secret, to recognise it' }),
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.Union([Type.String(), Type.Null()]),
};

/** The create body's common fields; `scopesDescription` says what narrowing means for this kind of key. */
export function keyCreateFields(scopesDescription: string) {
  return {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(
      Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }), Type.Null()], { description: scopesDescription }),
    ),
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  };
}

/** The create response: the key, its secret (shown this once) and the revision written. */
export const CreatedKey = <T extends TSchema>(key: T) => Type.Intersect([key, Type.Object({ secret: Type.String(), revision: Type.Integer() })]);
