/**
 * Personnel events: joiner, mover, leaver and leave of absence, each with its effective
 * date, preview, stages and record; the effect stages run as durable scheduler jobs.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { approvePersonnelEvent, openEventApproval, PERSONNEL_EVENT_OUTCOMES, rejectPersonnelEvent } from './approval.ts';
export { cancelPersonnelEvent, changeLeaveReturn, commentOnPersonnelEvent, createPersonnelEvent, getPersonnelEvent, listPersonnelEvents, pagePersonnelEvents, previewPersonnelEvent } from './events.ts';
export type { CreateEventInput, CreateResult, EventDetail, ListEventsQuery } from './events.ts';
export { EVENT_STATUSES, EVENT_TYPES, STAGES } from './model.ts';
export type { EventPreview, EventStatus, EventType, EventView, IdentityChanges, PreviewItem, Stage } from './model.ts';
export { PERSONNEL_JOB_FAILURE_HANDLERS, PERSONNEL_JOB_HANDLERS, VERIFY_RECHECK_MS } from './stages.ts';
