/**
 * Serves the web console (built by `npm run build:web` into web/dist) at /console on the
 * API's own origin: hashed assets under /console/assets/ with a year-long immutable cache,
 * index.html never cached, every other path under /console answered with index.html so deep
 * links work (the console routes in the browser), and a missing asset a 404 problem (never
 * the page, which a browser would try to run as a script).
 *
 * ```ts
 * await app.register(async (scope) => registerConsoleRoutes(scope, { dir: '/srv/grantory/web/dist' }));
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { App } from './deps.ts';
import { PUBLIC } from './route-auth.ts';
import { CONSOLE_DIR } from '../domain/install-dir.ts';

export const CONSOLE_PREFIX = '/console';

/** web/dist of this installation (install-dir.ts finds it from the sources and from dist/ alike). */
export const DEFAULT_CONSOLE_DIR = CONSOLE_DIR;

/**
 * The console's pages load only what it bundles: scripts and styles from this origin (the
 * graph view sets inline style attributes), data only from the API on the same origin.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_CACHE = 'no-cache';

export interface ConsoleOptions {
  /** The directory of the built console (index.html and assets/). */
  dir: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function registerConsoleRoutes(app: App, options: ConsoleOptions): Promise<void> {
  const root = options.dir;
  // sendFile only: the routes below decide what is served and how it is cached.
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true, cacheControl: false, etag: true, lastModified: true });

  const securityHeaders = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(join(root, 'index.html'))) {
      throw new AppError('not_ready', 'The console is not built: run `npm run build:web` (npm ci and npm start build it)');
    }
    return securityHeaders(reply).header('cache-control', NO_CACHE).type('text/html; charset=utf-8').sendFile('index.html', root);
  };

  const schema = { hide: true } as const;
  app.get(CONSOLE_PREFIX, { config: PUBLIC, schema }, async (_request, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302));

  app.get(`${CONSOLE_PREFIX}/*`, { config: PUBLIC, schema }, async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    // Hashed build output: cached for a year, a miss is a 404 (not the page).
    if (rest.startsWith('assets/')) {
      const file = rest.slice('assets/'.length);
      if (!/^[A-Za-z0-9._-]+$/.test(file) || !isFile(join(root, 'assets', file))) {
        throw new AppError('not_found', `The console has no asset ${rest}`);
      }
      return securityHeaders(reply).header('cache-control', IMMUTABLE).sendFile(join('assets', file), root);
    }
    // Unhashed files at the top of the build (favicon): revalidated on every load.
    if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9]+$/.test(rest) && rest !== 'index.html') {
      if (isFile(join(root, rest))) return securityHeaders(reply).header('cache-control', NO_CACHE).sendFile(rest, root);
      throw new AppError('not_found', `The console has no file ${rest}`);
    }
    // Any other path is a page of the console: the browser-side router draws it.
    return sendIndex(reply);
  });
}
