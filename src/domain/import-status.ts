/** The statuses and types of an application import. */

export const IMPORT_STATUSES = ['Pending', 'Running', 'Held', 'Finished', 'Failed', 'Canceling', 'Canceled'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export const IMPORT_TYPES = ['Scheduled', 'Manual', 'API'] as const;
export type ImportType = (typeof IMPORT_TYPES)[number];

/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES: readonly ImportStatus[] = ['Finished', 'Failed', 'Canceled'];
