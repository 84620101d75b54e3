/**
 * What every route module is given: the Fastify instance type and the route dependencies.
 * Types only: this module imports nothing from the routes or the app that use it.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Services } from '../services/index.ts';
import type { Store } from '../store/store.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimiters } from './rate-limit.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteDeps {
  services: Services;
  store: Store;
  metrics: Metrics;
  readiness: (() => Promise<string | null>) | undefined;
  rateLimiters: RateLimiters;
}

export type RouteRegistrar = (app: App, deps: RouteDeps) => Promise<void> | void;
