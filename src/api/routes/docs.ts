/**
 * `/docs`: the API reference, rendered in the browser by Scalar's standalone bundle, served
 * from the installed npm package (no CDN, no external fonts, no telemetry). The page names
 * the product and its version; the document is `/openapi.json`.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { App } from '../deps.ts';
import { PUBLIC } from '../route-auth.ts';
import { PRODUCT_VERSION } from '../openapi-document.ts';

// The package exports no subpath for its browser bundle; it sits beside its entry point.
const BUNDLE = join(dirname(createRequire(import.meta.url).resolve('@scalar/api-reference')), 'browser', 'standalone.js');

/** Scripts only from this server; Scalar styles itself inline and draws icons as data URLs. */
export const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function docsPage(): string {
  const configuration = {
    url: '/openapi.json',
    theme: 'default',
    layout: 'modern',
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: false,
    showDeveloperTools: 'never',
    agent: { disabled: true },
    mcp: { disabled: true },
    metaData: { title: `Grantory ${PRODUCT_VERSION} — API reference` },
    customCss: 'a[href*="scalar.com"] { display: none !important; }',
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grantory ${escapeHtml(PRODUCT_VERSION)} — API reference</title>
</head>
<body>
<noscript>Grantory ${escapeHtml(PRODUCT_VERSION)} API reference: this page needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<script id="api-reference" data-url="/openapi.json" data-configuration="${escapeHtml(JSON.stringify(configuration))}"></script>
<script src="/docs/scalar.js"></script>
</body>
</html>
`;
}

export function registerDocsRoutes(app: App): void {
  const page = docsPage();
  app.get('/docs', { config: PUBLIC, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', DOCS_CSP).header('cache-control', 'no-cache').send(page),
  );
  app.get('/docs/scalar.js', { config: PUBLIC, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', `public, max-age=86400`).send(createReadStream(BUNDLE)),
  );
}
