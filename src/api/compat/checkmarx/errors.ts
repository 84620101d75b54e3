/**
 * The Checkmarx profile's error body. Checkmarx answers failures with JSON of the form
 * `{"messageCode": <integer>, "messageDetails": "<text>"}`; this profile renders every
 * Grantory error in that envelope and adds Grantory's stable `code` (and the named field
 * `errors`, when there are any) so that a script can tell failures apart:
 *
 * ```json
 * {"messageCode": 40401, "messageDetails": "permission 99 does not exist", "code": "not_found"}
 * ```
 *
 * `messageCode` is the HTTP status times 100 plus a per-code index (table below, one entry
 * for every code: a code added to the catalogue does not compile until it has its own).
 */
import { Type } from '@sinclair/typebox';
import { challengeOf } from '../../problem.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, type AppError, type ErrorCode, type FieldError } from '../../../domain/errors.ts';

const MESSAGE_CODES: Record<ErrorCode, number> = {
  validation_failed: 40001,
  malformed_json: 40002,
  invalid_cursor: 40003,
  unauthenticated: 40101,
  forbidden: 40301,
  csrf_token_invalid: 40302,
  not_found: 40401,
  route_not_found: 40402,
  method_not_allowed: 40501,
  not_acceptable: 40601,
  conflict: 40901,
  precondition_failed: 41201,
  payload_too_large: 41301,
  unsupported_media_type: 41501,
  idempotency_mismatch: 42201,
  unprocessable: 42202,
  precondition_required: 42801,
  rate_limited: 42901,
  internal_error: 50001,
  not_ready: 50301,
};

export interface CxError {
  messageCode: number;
  messageDetails: string;
  code: ErrorCode;
  errors?: FieldError[];
}

export const CxErrorBody = Type.Object({
  messageCode: Type.Integer({ description: 'HTTP status × 100 + an index per code' }),
  messageDetails: Type.String(),
  code: Type.String({ description: "Grantory's stable error code" }),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

export function cxErrorOf(error: AppError): CxError {
  return {
    messageCode: MESSAGE_CODES[error.code],
    messageDetails: error.message,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function sendCxError(reply: FastifyReply, _request: FastifyRequest, error: AppError, contentType: string): FastifyReply {
  if (error.code === 'unauthenticated') reply.header('WWW-Authenticate', challengeOf(error));
  return reply.status(ERROR_CATALOGUE[error.code].status).type(contentType).send(cxErrorOf(error));
}
