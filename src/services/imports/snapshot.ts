/**
 * Reads every file of an import into one observed snapshot of the application: its
 * accounts, each with status, identity keys and grants. Rows stream through; only the
 * snapshot (accounts and interned grant codes) is kept. Bad rows count against the
 * connector's budget; past it, or on a file problem, the import fails with the file and
 * line named.
 */
import type { Connector, FileGroup } from '../../domain/connector.ts';
import { GrantCodes, type ObservedAccount } from '../../domain/import-diff.ts';
import { FileProblem, readImportBatches, type RowProblem } from './parse.ts';

export interface SnapshotFile {
  fileGroupId: string;
  name: string;
  path: string;
  size: number;
}

export interface Snapshot {
  accounts: Map<string, ObservedAccount>;
  codes: GrantCodes;
  rowsRead: number;
  badRows: number;
  /** The first problems, for the import's log. */
  problems: RowProblem[];
}

/** A failure that ends the import with a message for its log. */
export class ImportFailure extends Error {}
/** The import was canceled while it ran. */
export class ImportCanceled extends Error {}

export interface SnapshotOptions {
  onProgress?: (rowsRead: number, bytesRead: number) => Promise<void> | void;
  /** Checked every `checkEvery` rows; true stops with {@link ImportCanceled}. */
  shouldStop?: () => Promise<boolean> | boolean;
  checkEvery?: number;
  /** Checked after every batch of rows: aborted stops with {@link ImportCanceled}. */
  signal?: AbortSignal;
}

const MAX_LOGGED_PROBLEMS = 100;

const LARGE = 32;

/** Adds a grant code to the account's list unless it is there already. */
function addGrant(account: ObservedAccount, code: number, large: Map<ObservedAccount, Set<number>>): void {
  const grants = account.grants;
  // Rows of one account usually come together: the last code is the likeliest repeat.
  if (grants[grants.length - 1] === code) return;
  const index = large.get(account);
  if (index ? index.has(code) : grants.includes(code)) return;
  grants.push(code);
  if (index) index.add(code);
  else if (grants.length >= LARGE) large.set(account, new Set(grants));
}

export async function buildSnapshot(files: SnapshotFile[], connector: Connector, options: SnapshotOptions = {}): Promise<Snapshot> {
  const groups = new Map<string, FileGroup>(connector.fileGroups.map((g) => [g.id, g]));
  const disabled = new Set(connector.disabledStatuses);
  const snapshot: Snapshot = { accounts: new Map(), codes: new GrantCodes(), rowsRead: 0, badRows: 0, problems: [] };
  const checkEvery = options.checkEvery ?? 5000;
  // Accounts with many grants get a set beside their list for the duplicate check (while reading only).
  const large = new Map<ObservedAccount, Set<number>>();
  let bytesRead = 0;
  let lastCheck = 0;
  const onBytes = (n: number) => void (bytesRead += n);
  for (const file of files) {
    const group = groups.get(file.fileGroupId);
    if (!group) throw new ImportFailure(`file ${file.name} belongs to no file group of the connector`);
    try {
      for await (const batch of readImportBatches({ path: file.path, name: file.name, group, onBytes })) {
        for (const item of batch) {
          if (item.kind === 'problem') {
            snapshot.badRows += 1;
            if (snapshot.problems.length < MAX_LOGGED_PROBLEMS) snapshot.problems.push(item);
            if (snapshot.badRows > connector.maxBadRows) {
              throw new ImportFailure(`more than ${connector.maxBadRows} bad rows (the connector's limit); the last: ${item.file}, line ${item.line}: ${item.message}`);
            }
            continue;
          }
          snapshot.rowsRead += 1;
          const v = item.values;
          const name = v.accountName!;
          let account = snapshot.accounts.get(name);
          if (!account) {
            account = { name, status: 'active', keys: {}, grants: [] };
            snapshot.accounts.set(name, account);
          }
          if (v.accountStatus !== undefined && disabled.has(v.accountStatus.toLowerCase())) account.status = 'disabled';
          if (v.employeeNumber !== undefined) account.keys.employeeNumber ??= v.employeeNumber;
          if (v.email !== undefined) account.keys.email ??= v.email;
          if (v.username !== undefined) account.keys.username ??= v.username;
          if (v.subject !== undefined) account.keys.subject ??= v.subject;
          if (v.permission !== undefined) addGrant(account, snapshot.codes.intern(v.permission, v.context ?? null), large);
        }
        if (options.signal?.aborted) throw new ImportCanceled('canceled while reading the files');
        if (snapshot.rowsRead - lastCheck >= checkEvery) {
          lastCheck = snapshot.rowsRead;
          await options.onProgress?.(snapshot.rowsRead, bytesRead);
          if (await options.shouldStop?.()) throw new ImportCanceled('canceled while reading the files');
        }
      }
    } catch (e) {
      if (e instanceof FileProblem) throw new ImportFailure(e.message);
      throw e;
    }
  }
  await options.onProgress?.(snapshot.rowsRead, bytesRead);
  return snapshot;
}
