/**
 * The workflow core shared by access requests and personnel events: the journal of comments
 * and activity on a workflow subject. (The durable scheduler and the tenant's settings are
 * in the kernel.)
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { journalOf, MAX_COMMENT_LENGTH, recordActivity, recordComment } from './journal.ts';
export type { JournalActor, JournalEntryView, SubjectKind, WorkflowSubject } from './journal.ts';
