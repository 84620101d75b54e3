/**
 * The Checkmarx Access Control profile under `/cxrestapi/auth` (COMPAT.md §4): a thin
 * translator from the vendor's routes and shapes onto Grantory's catalog services.
 *
 * In this plugin's scope: media-type versioning (`Accept` / `Content-Type` with `;v=1.0`,
 * 406 / 415 for an unsupported version, the version echoed in every response's
 * `Content-Type`), a JSON body parser that checks the declared version, and an error
 * handler that renders failures in the Checkmarx envelope (see `errors.ts`). The
 * `cxOrigin` header is recorded on audit events by the app's authentication hook.
 */
import type { FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { toAppError } from '../../problem.ts';
import { CxErrorBody, sendCxError } from './errors.ts';
import { declareVendorErrors } from '../../error-responses.ts';
import { CX_LATEST, acceptedVersion, bodyVersion, cxContentType, type CxVersion } from './media-type.ts';
import { registerCxPermissionRoutes } from './permissions.ts';
import { registerCxRoleRoutes } from './roles.ts';
import { registerCxServiceProviderRoutes } from './service-providers.ts';
import { registerCxTeamRoutes } from './teams.ts';
import { registerCxUserRoutes } from './users.ts';

import { utf8Parser } from '../../text-guard.ts';
import { gateProfile } from '../profile-switch.ts';

export const CX_PREFIX = '/cxrestapi/auth';

const versions = new WeakMap<FastifyRequest, CxVersion>();
const versionOf = (request: FastifyRequest): CxVersion => versions.get(request) ?? CX_LATEST;

export async function registerCheckmarxProfile(app: App, deps: RouteDeps): Promise<void> {
  await app.register(
    async (cx) => {
      declareVendorErrors(cx, { statusOf: (status) => status, bodyOf: () => CxErrorBody, description: 'the Checkmarx error body', always: [404, 406] });

      // Bodies: JSON, optionally with `;v=<version>`; an unsupported version is a 415.
      const json = cx.getDefaultJsonParser('error', 'error');
      cx.removeContentTypeParser('application/json');
      const utf8Json = utf8Parser(json);
      cx.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
        if (bodyVersion(request.headers['content-type']) === null) {
          done(new AppError('unsupported_media_type', `this API speaks application/json;v=${CX_LATEST} (or application/json without a version)`), undefined);
          return;
        }
        utf8Json(request, body, done);
      });

      cx.addHook('onRequest', async (request) => {
        const version = acceptedVersion(request.headers.accept);
        if (version === null) {
          throw new AppError('not_acceptable', `the Accept header names no supported version; this API speaks application/json;v=${CX_LATEST}`);
        }
        versions.set(request, version);
      });

      // Every response (errors and idempotent replays included) carries the version.
      cx.addHook('onSend', async (request, reply, payload) => {
        if (payload !== undefined && payload !== null && payload !== '') reply.header('content-type', cxContentType(versionOf(request)));
        return payload;
      });

      cx.setErrorHandler(async (error, request, reply) => {
        const { appError, unexpected } = toAppError(error);
        if (unexpected) request.log.error({ err: error }, 'unexpected error');
        return sendCxError(reply, request, appError, cxContentType(versionOf(request)));
      });

      gateProfile(cx, deps, 'checkmarx');

      registerCxPermissionRoutes(cx, deps);
      registerCxRoleRoutes(cx, deps);
      registerCxServiceProviderRoutes(cx, deps);
      registerCxUserRoutes(cx, deps);
      registerCxTeamRoutes(cx, deps);
    },
    { prefix: CX_PREFIX },
  );
}
