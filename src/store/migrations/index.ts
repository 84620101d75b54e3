import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-foundation.ts';
import * as m0002 from './0002-security.ts';
import * as m0003 from './0003-access.ts';
import * as m0004 from './0004-audit.ts';
import * as m0005 from './0005-directory.ts';
import * as m0006 from './0006-imports.ts';
import * as m0007 from './0007-import-fingerprints.ts';
import * as m0008 from './0008-encrypt-audit-secrets.ts';
import * as m0009 from './0009-credential-authority.ts';
import * as m0010 from './0010-identifier-skeletons.ts';
import * as m0011 from './0011-workflow-core.ts';
import * as m0012 from './0012-sod.ts';
import * as m0013 from './0013-access-requests.ts';
import * as m0014 from './0014-personnel-events.ts';
import * as m0015 from './0015-personnel-event-rights.ts';
import * as m0016 from './0016-console-sessions.ts';
import * as m0017 from './0017-assignment-delegator-index.ts';
import * as m0018 from './0018-access-reviews.ts';
import * as m0019 from './0019-access-history.ts';
import * as m0020 from './0020-source-port-token-client.ts';
import * as m0023 from './0023-review-rights-history-horizon.ts';
import * as m0024 from './0024-rate-limit-counters.ts';
import * as m0025 from './0025-one-cursor-key.ts';
import * as m0026 from './0026-sod-exception-revocation.ts';
import * as m0027 from './0027-compact-access-history.ts';
import * as m0030 from './0030-assignment-delegations-index.ts';

/**
 * The one migration set, run in name order on SQLite and PostgreSQL alike. Each issue adds
 * its own file here; never edit a migration that has shipped.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-security': m0002,
  '0003-access': m0003,
  '0004-audit': m0004,
  '0005-directory': m0005,
  '0006-imports': m0006,
  '0007-import-fingerprints': m0007,
  '0008-encrypt-audit-secrets': m0008,
  '0009-credential-authority': m0009,
  '0010-identifier-skeletons': m0010,
  '0011-workflow-core': m0011,
  '0012-sod': m0012,
  '0013-access-requests': m0013,
  '0014-personnel-events': m0014,
  '0015-personnel-event-rights': m0015,
  '0016-console-sessions': m0016,
  '0017-assignment-delegator-index': m0017,
  '0018-access-reviews': m0018,
  '0019-access-history': m0019,
  '0020-source-port-token-client': m0020,
  '0023-review-rights-history-horizon': m0023,
  '0024-rate-limit-counters': m0024,
  '0025-one-cursor-key': m0025,
  '0026-sod-exception-revocation': m0026,
  '0027-compact-access-history': m0027,
  '0030-assignment-delegations-index': m0030,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
