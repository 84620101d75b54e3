/** Health, readiness, metrics and the OpenAPI document. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { AppError } from '../../domain/errors.ts';
import { PUBLIC } from '../route-auth.ts';
import { errorResponses } from '../error-responses.ts';
import { storeReadiness } from '../../services/kernel/index.ts';

const Status = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

export function registerOperationsRoutes(app: App, deps: RouteDeps): void {
  app.get(
    '/livez',
    {
      config: PUBLIC,
      schema: { tags: ['Operations'], summary: 'Liveness: the process answers', security: [], response: { 200: Status } },
    },
    async () => ({ status: 'ok' }),
  );

  let migrated = false;
  app.get(
    '/readyz',
    {
      config: PUBLIC,
      schema: {
        tags: ['Operations'],
        summary: 'Readiness: the store is reachable, migrations are applied, the access index is built',
        security: [],
        response: { 200: Status, ...errorResponses(503) },
      },
    },
    async () => {
      const problem = await storeReadiness(deps.services.deps, { checkMigrations: !migrated });
      if (problem) throw new AppError('not_ready', problem);
      migrated = true;
      const extra = deps.readiness ? await deps.readiness() : null;
      if (extra) throw new AppError('not_ready', extra);
      return { status: 'ok', checks: { store: 'ok', migrations: 'ok' } };
    },
  );

  app.get(
    '/metrics',
    { config: PUBLIC, schema: { tags: ['Operations'], summary: 'Prometheus metrics', security: [], hide: true } },
    async (_request, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.exposition();
    },
  );

  app.get(
    '/openapi.json',
    { config: PUBLIC, schema: { hide: true } },
    async () => app.swagger(),
  );
}
