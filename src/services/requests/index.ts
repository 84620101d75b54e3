/**
 * Access requests: submit, approve or reject, cancel, comment; provisioning on the last
 * approval (and its verification by imports of connected applications).
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { createAccessRequest, openAccessRequest } from './create.ts';
export type { CreateRequestInput } from './create.ts';
export { cancelAccessRequest, commentOnAccessRequest, decideAccessRequest } from './decisions.ts';
export { PROVISIONING_STATUSES, REQUEST_ACTIONS, REQUEST_STATUSES } from './model.ts';
export type { AccessRequestSummary, AccessRequestView, RequestAction, RequestRow, RequestStatus } from './model.ts';
export { ACCESS_REQUEST_OUTCOMES, REQUEST_JOB_HANDLERS, verifyProvisioning } from './provisioning.ts';
export { fullView, getAccessRequest, listAccessRequests, listAccessRequestsByPage, summaries } from './reads.ts';
export type { RequestFilter } from './reads.ts';
export { sodCheck } from './sod.ts';
