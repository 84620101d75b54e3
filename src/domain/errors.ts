/**
 * The closed error catalogue. Every failure a caller can see has a stable `code` listed
 * here; the HTTP layer maps codes to statuses from this one table, and each
 * compatibility profile renders the same errors in its vendor's envelope.
 *
 * ```ts
 * throw new AppError('not_found', 'Identity 42 does not exist');
 * ```
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_cursor: { status: 400, title: 'The cursor is not valid for this list' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'The caller lacks the right for this action' },
  csrf_token_invalid: { status: 403, title: 'The session request lacks its CSRF token' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route' },
  not_acceptable: { status: 406, title: 'The requested representation is not available' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  precondition_failed: { status: 412, title: 'The resource has changed since it was read' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  idempotency_mismatch: { status: 422, title: 'The Idempotency-Key was used with a different request' },
  unprocessable: { status: 422, title: 'The request cannot be processed' },
  precondition_required: { status: 428, title: 'A precondition header is required' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  not_ready: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One field-level problem, named by its JSON pointer-ish path (e.g. `/email`). */
export interface FieldError {
  field: string;
  message: string;
}

/** A failure with a stable code from the catalogue. Safe to show to a client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { errors?: FieldError[]; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.errors = options.errors;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError('not_found', `${what} ${id} does not exist`);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
