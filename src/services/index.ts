/**
 * The service layer, assembled from its dependencies. Routes, the CLI and jobs call these;
 * nothing above this layer touches the store directly.
 */
import type { Store } from '../store/store.ts';
import type { AccessEngine } from '../engine/engine.ts';
import type { Caller } from './actor.ts';
import { authenticateApiKey } from './authentication.ts';
import { AppError } from '../domain/errors.ts';
import type { DirectoryHooks } from './directory-hooks.ts';
import { RULE_DIRECTORY_HOOKS } from './rule-hooks.ts';

export interface ServiceDeps {
  store: Store;
  /** The clock every service reads; tests may pass a fixed one. */
  now: () => Date;
  /** Listeners run inside identity / organization-unit writes (e.g. assignment rules). */
  directoryHooks?: DirectoryHooks;
  /** The in-memory access index (check, list, holders, explain, drift; see src/engine). */
  access?: AccessEngine;
  /** Application imports: the import directory and upload limit (defaults: ./data/imports, 1 GiB). */
  imports?: ImportSettings;
}

export interface ImportSettings {
  importDir: string;
  uploadLimit: number;
  /** Called after an import is queued, so this node's worker starts it without waiting for its next poll. */
  notify?: () => void;
}

export interface Services {
  deps: ServiceDeps;
  /** Resolves an `Authorization` header value to a caller; throws `unauthenticated`. */
  authenticate(authorization: string | undefined): Promise<Caller>;
}

export function createServices(given: ServiceDeps): Services {
  // Assignment rules follow directory changes unless a caller wires its own hooks.
  const deps: ServiceDeps = { ...given, directoryHooks: given.directoryHooks ?? RULE_DIRECTORY_HOOKS };
  return {
    deps,
    async authenticate(authorization) {
      if (!authorization) throw new AppError('unauthenticated', 'send credentials in the Authorization header (Bearer <API key>)');
      const match = /^(\S+)\s+(\S+)$/.exec(authorization.trim());
      if (!match) throw new AppError('unauthenticated', 'the Authorization header is malformed');
      const [, scheme, credential] = match as unknown as [string, string, string];
      if (scheme.toLowerCase() === 'bearer') return authenticateApiKey(deps.store, credential, deps.now());
      throw new AppError('unauthenticated', `the authorization scheme "${scheme}" is not supported`);
    },
  };
}
