/** Prometheus metrics: HTTP requests by route and status, latency, and store query timings. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  storeQueryDuration: Histogram<'outcome'>;
  /** Requests refused with 429, by limit (`management`, `decision`, `token`, `auth_failures`). */
  rateLimited: Counter<'limit'>;
  /** Hook for the store's query log. */
  observeQuery(ms: number, failed: boolean): void;
  /**
   * The text `/metrics` answers: this process's registry, or — in a worker of a cluster
   * (`GRANTORY_WORKERS` > 1) — every worker's, summed by the primary (src/cluster.ts).
   */
  exposition(): Promise<string>;
}

export function createMetrics(options: { defaultMetrics?: boolean; exposition?: (registry: Registry) => () => Promise<string> } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'grantory_' });
  const httpRequests = new Counter({
    name: 'grantory_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'grantory_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const storeQueryDuration = new Histogram({
    name: 'grantory_store_query_duration_seconds',
    help: 'Store query latency',
    labelNames: ['outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'grantory_rate_limited_total',
    help: 'Requests refused by a rate limit (429), by limit',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    storeQueryDuration,
    rateLimited,
    observeQuery: (ms, failed) => storeQueryDuration.observe({ outcome: failed ? 'error' : 'ok' }, ms / 1000),
    exposition: options.exposition ? options.exposition(registry) : () => registry.metrics(),
  };
}
