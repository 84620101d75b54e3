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
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const UNION = new Set(['anyOf', 'oneOf']);
const LITERAL = new Set(['const', 'enum', 'type']);

/** `a, b, c` for the allowed values of an enum or a union of literals. */
const listOf = (values: unknown[]) => [...new Set(values.map(String))].join(', ');

function allowedMessage(values: unknown[], types: string[]): string {
  const literalTypes = new Set<string>(values.map((v) => (v === null ? 'null' : typeof v)));
  const others = [...new Set(types)].filter((t) => !literalTypes.has(t) && !(t === 'integer' && literalTypes.has('number')));
  if (!values.length) return `must be ${others.join(' or ')}`;
  const shown = [...values.filter((v) => v !== null), ...(others.includes('null') || values.includes(null) ? ['null'] : [])];
  if (shown.length === 1) return `must be ${String(shown[0])}`;
  return `must be one of ${listOf(shown)}`;
}

/**
 * A failed union (`anyOf`, which TypeBox makes of `Union` and `Nullable`) said once: a union
 * of literals lists its values ("must be one of ndjson, csv, json"); a value that has the
 * shape of a branch but fails inside it gets that branch's errors; else the allowed types.
 */
function unionErrors(union: AjvIssue, branches: AjvIssue[], prefix: string): FieldError[] {
  // Nested unions of literals (a Nullable enum) flatten into one list.
  const inside = branches.filter((b) => b.instancePath !== union.instancePath || !(LITERAL.has(b.keyword ?? '') || UNION.has(b.keyword ?? '')));
  if (inside.length) return convert(inside, prefix);
  const values: unknown[] = [];
  const types: string[] = [];
  for (const b of branches) {
    if (b.keyword === 'const') values.push(b.params?.allowedValue);
    else if (b.keyword === 'enum') values.push(...((b.params?.allowedValues as unknown[] | undefined) ?? []));
    else if (b.keyword === 'type') types.push(...String(b.params?.type ?? '').split(','));
  }
  // A literal's own `type` mismatch says nothing the literal does not.
  return [{ field: fieldOf(union, prefix), message: values.length || types.length ? allowedMessage(values, types) : (union.message ?? 'is not valid') }];
}

function fieldOf(issue: AjvIssue, prefix: string, child?: unknown): string {
  const path = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const field = child === undefined ? path : [path, String(child)].filter(Boolean).join('.');
  return prefix + (field || '(root)');
}

function convert(issues: AjvIssue[], prefix: string): FieldError[] {
  const unions = issues.filter((i) => UNION.has(i.keyword ?? '') && i.schemaPath);
  const within = (inner: AjvIssue, outer: AjvIssue) => inner !== outer && !!inner.schemaPath && inner.schemaPath.startsWith(`${outer.schemaPath}/`);
  const outermost = unions.filter((u) => !unions.some((o) => within(u, o)));
  const errors: FieldError[] = [];
  for (const issue of issues) {
    if (outermost.some((u) => within(issue, u))) continue;
    if (outermost.includes(issue)) {
      errors.push(...unionErrors(issue, issues.filter((i) => within(i, issue)), prefix));
    } else if (issue.keyword === 'additionalProperties') {
      errors.push({ field: fieldOf(issue, prefix, issue.params?.additionalProperty), message: 'is not a known field' });
    } else if (issue.keyword === 'required') {
      errors.push({ field: fieldOf(issue, prefix, issue.params?.missingProperty), message: 'is required' });
    } else if (issue.keyword === 'enum') {
      errors.push({ field: fieldOf(issue, prefix), message: allowedMessage((issue.params?.allowedValues as unknown[] | undefined) ?? [], []) });
    } else if (issue.keyword === 'const') {
      errors.push({ field: fieldOf(issue, prefix), message: allowedMessage([issue.params?.allowedValue], []) });
    } else {
      errors.push({ field: fieldOf(issue, prefix), message: issue.message ?? 'is not valid' });
    }
  }
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(`${e.field}\u0000${e.message}`) && !!seen.add(`${e.field}\u0000${e.message}`));
}

/** Converts Fastify's validation issues into named field errors, each said once. */
export function fieldErrorsFromValidation(issues: AjvIssue[], part: string | undefined): FieldError[] {
  return convert(issues, part && part !== 'body' ? `${part}.` : '');
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
