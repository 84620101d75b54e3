/**
 * RFC 9457 problem details. Every error the native API returns has this shape, with the
 * stable `code` from the error catalogue; unexpected errors become a bare
 * `internal_error` (the detail is logged, never sent).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOGUE, type ErrorCode, type FieldError } from '../domain/errors.ts';
import { CredentialRejected } from '../services/credentials/index.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Converts Fastify's validation issues into named field errors. */
export function fieldErrorsFromValidation(issues: AjvIssue[], part: string | undefined): FieldError[] {
  const prefix = part && part !== 'body' ? `${part}.` : '';
  return issues.map((v) => {
    const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const join = (child: unknown) => [path, String(child)].filter(Boolean).join('.');
    if (v.keyword === 'additionalProperties') {
      return { field: prefix + join(v.params?.additionalProperty), message: 'is not a known field' };
    }
    if (v.keyword === 'required') {
      return { field: prefix + join(v.params?.missingProperty), message: 'is required' };
    }
    return { field: prefix + (path || '(root)'), message: v.message ?? 'is not valid' };
  });
}

/** Normalizes anything thrown into an AppError with a catalogue code. */
export function toAppError(error: unknown): { appError: AppError; unexpected: boolean } {
  if (error instanceof AppError) return { appError: error, unexpected: false };
  const fe = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) {
    const errors = fieldErrorsFromValidation(fe.validation, fe.validationContext);
    const summary = errors.map((e) => `${e.field} ${e.message}`).join('; ');
    return { appError: new AppError('validation_failed', summary || 'the request is not valid', { errors }), unexpected: false };
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { appError: new AppError('malformed_json', fe.message), unexpected: false };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { appError: new AppError('payload_too_large', 'the request body exceeds the size limit'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { appError: new AppError('unsupported_media_type', 'send the body as application/json'), unexpected: false };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { appError: new AppError('validation_failed', 'the URL is not valid (bad percent-encoding, invalid UTF-8 or too long a path parameter)'), unexpected: false };
    case 'FST_ERR_CTP_INVALID_TYPE':
      return { appError: new AppError('unsupported_media_type', 'the Content-Type header is not valid'), unexpected: false };
    default:
      break;
  }
  if (error instanceof SyntaxError && (fe as { statusCode?: number }).statusCode === 400) {
    return { appError: new AppError('malformed_json', 'the request body is not valid JSON'), unexpected: false };
  }
  const status = (fe as { statusCode?: number })?.statusCode;
  if (status === 413) return { appError: new AppError('payload_too_large', 'the request body exceeds the size limit'), unexpected: false };
  if (status === 415) return { appError: new AppError('unsupported_media_type', 'the content type is not supported'), unexpected: false };
  if (status === 400) return { appError: new AppError('validation_failed', 'the request is not valid'), unexpected: false };
  return { appError: new AppError('internal_error', 'an unexpected error occurred; the request id identifies it in the server log'), unexpected: true };
}

export function problemOf(appError: AppError, request: FastifyRequest): Problem {
  const entry = ERROR_CATALOGUE[appError.code];
  return {
    type: `urn:grantory:error:${appError.code}`,
    title: entry.title,
    status: entry.status,
    detail: appError.message,
    code: appError.code,
    instance: request.url.split('?')[0],
    requestId: request.id,
    ...(appError.errors ? { errors: appError.errors } : {}),
    ...(appError.details ?? {}),
  };
}

/** The `WWW-Authenticate` challenge of a 401 (the compatibility profiles send it too). */
export function challengeOf(appError: AppError): string {
  return appError instanceof CredentialRejected ? appError.challenge : 'Bearer realm="grantory"';
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, appError: AppError): FastifyReply {
  const problem = problemOf(appError, request);
  if (appError.code === 'unauthenticated') reply.header('WWW-Authenticate', challengeOf(appError));
  if (appError.code === 'not_ready') reply.header('Retry-After', String(appError.details?.retryAfter ?? 1));
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
