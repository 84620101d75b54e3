/**
 * What API keys and application keys share: the stored fields of a key secret (keyed hash,
 * recognisable prefix, scopes, expiry, usage and creation stamps) and their view.
 */
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';
import { secretLabel } from './authentication.ts';
import type { ServiceDeps } from '../deps.ts';

/** The columns `api_keys` and `application_keys` have in common. */
export type KeySecretRow = Pick<
  Database['api_keys'] & Database['application_keys'],
  'name' | 'key_hash' | 'prefix' | 'scopes' | 'expires_at' | 'last_used_at' | 'created_at' | 'created_by'
>;

export interface KeySecretView {
  name: string;
  prefix: string;
  scopes: string[] | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  createdBy: string | null;
}

export interface KeySecretInput {
  name: string;
  scopes?: string[] | null | undefined;
  expiresAt?: string | null | undefined;
}

/** The stored fields of a new key whose secret is `secret` (only its keyed hash is kept). */
export function newKeySecretRow(deps: ServiceDeps, tx: WriteTx, actor: Actor, secret: string, input: KeySecretInput): KeySecretRow {
  const scopes = input.scopes ?? null;
  return {
    name: input.name,
    key_hash: deps.secrets.hashCredential(secret),
    prefix: secretLabel(secret),
    scopes: scopes === null ? null : JSON.stringify(scopes),
    expires_at: input.expiresAt ?? null,
    last_used_at: null,
    created_at: tx.now,
    created_by: actor.caller.id,
  };
}

export function keySecretView(row: KeySecretRow): KeySecretView {
  return {
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
