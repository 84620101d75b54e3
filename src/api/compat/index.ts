/**
 * Vendor compatibility profiles: one folder each, a thin translator from the vendor's
 * documented routes and shapes onto the same services. Each registers at its own paths.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../../domain/errors.ts';
import { challengeOf } from '../problem.ts';
import type { RouteRegistrar } from '../deps.ts';
import { registerCelonisProfile } from './celonis/index.ts';
import { registerCheckmarxProfile, CX_PREFIX } from './checkmarx/index.ts';
import { cxErrorOf } from './checkmarx/errors.ts';
import { CX_LATEST, cxContentType } from './checkmarx/media-type.ts';
import { registerCoreOneRoutes } from './coreone/index.ts';
import { registerPermissionAssist } from './permission-assist/index.ts';
import { paError } from './permission-assist/mapping.ts';
import { SCIM_PREFIX, sendScimError } from '../routes/scim.ts';

export const COMPAT_PROFILES: RouteRegistrar[] = [registerCheckmarxProfile, registerCoreOneRoutes, registerCelonisProfile, registerPermissionAssist];

type Render = (reply: FastifyReply, request: FastifyRequest, error: AppError) => FastifyReply;

/**
 * How a request no route answers (404 `route_not_found`, 405 `method_not_allowed`) is
 * rendered under a profile's prefix: in the Checkmarx error body under `/cxrestapi/auth`,
 * in the Permission Assist envelope under `/api/` (the vendor's prefix; the native API's
 * `/api/v1/` keeps problem details), as a SCIM error under `/scim/v2`. `null`: the native
 * problem details.
 */
export function unroutedRendererFor(path: string): Render | null {
  if (path === CX_PREFIX || path.startsWith(`${CX_PREFIX}/`)) {
    return (reply, _request, error) => {
      if (error.code === 'unauthenticated') reply.header('WWW-Authenticate', challengeOf(error));
      // Serialized here: outside the profile's scope nothing else sets its Content-Type.
      return reply.status(error.status).header('content-type', cxContentType(CX_LATEST)).send(Buffer.from(JSON.stringify(cxErrorOf(error))));
    };
  }
  if (path.startsWith('/api/') && !path.startsWith('/api/v1/') && path !== '/api/v1') {
    return (reply, request, error) => {
      const { status, body } = paError(error, request.id, false);
      if (status === 401) reply.header('WWW-Authenticate', challengeOf(error));
      return reply.status(status).type('application/json').send(body);
    };
  }
  if (path === SCIM_PREFIX || path.startsWith(`${SCIM_PREFIX}/`)) return sendScimError;
  return null;
}
