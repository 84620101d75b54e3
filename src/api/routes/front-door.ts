/**
 * `GET /`, the front door. A browser (Accept: text/html) is sent where a person starts: the
 * console when its built files are installed (`<consoleDir>/index.html`), else the API
 * reference at /docs. Any other caller gets the links to start from, as JSON:
 *
 * ```json
 * { "name": "Grantory", "version": "0.1.0",
 *   "links": { "docs": "/docs", "openapi": "/openapi.json", "health": "/readyz", "api": "/api/v1" } }
 * ```
 *
 * `links.console` is there when the console is. A navigation aid, not an API operation:
 * left out of the OpenAPI document.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { App } from '../deps.ts';
import { PUBLIC } from '../route-auth.ts';
import { PRODUCT_NAME, PRODUCT_VERSION } from '../../domain/product.ts';

export const CONSOLE_PATH = '/console';
export const DOCS_PATH = '/docs';

const FrontDoor = Type.Object({
  name: Type.String(),
  version: Type.String(),
  links: Type.Object({
    docs: Type.String(),
    openapi: Type.String(),
    health: Type.String(),
    api: Type.String(),
    console: Type.Optional(Type.String()),
  }),
});

/** Whether the console's built files are installed in `consoleDir`. */
export function consoleInstalled(consoleDir: string | undefined): boolean {
  return consoleDir !== undefined && existsSync(join(consoleDir, 'index.html'));
}

export function registerFrontDoor(app: App, options: { consoleDir?: string }): void {
  app.get('/', { config: PUBLIC, schema: { hide: true, response: { 200: FrontDoor } } }, async (request, reply) => {
    // Asked per request: a console built after the server started is found.
    const withConsole = consoleInstalled(options.consoleDir);
    const accept = request.headers.accept ?? '';
    reply.header('vary', 'Accept');
    if (/\btext\/html\b/i.test(accept)) return reply.redirect(withConsole ? CONSOLE_PATH : DOCS_PATH, 302);
    return {
      name: PRODUCT_NAME,
      version: PRODUCT_VERSION,
      links: { docs: DOCS_PATH, openapi: '/openapi.json', health: '/readyz', api: '/api/v1', ...(withConsole ? { console: CONSOLE_PATH } : {}) },
    };
  });
}
