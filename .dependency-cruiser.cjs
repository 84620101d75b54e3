/**
 * The layers and rooms of src/ (docs/architecture.md has the map). `npm run lint` runs this:
 * a layer that imports upward, a domain that reaches into another's internals, or an import
 * circle fails CI.
 */
const LAYERS_BELOW = {
  domain: [],
  store: ['domain'],
  engine: ['domain', 'store'],
  services: ['domain', 'store', 'engine'],
  jobs: ['domain', 'services'],
  api: ['domain', 'services'],
  demo: ['domain', 'services'],
  cli: ['domain', 'store', 'services', 'api', 'jobs', 'demo'],
};

/** Layers that assemble the server (they may import src/server.ts, src/config.ts, ...). */
const COMPOSERS = ['cli', 'demo'];
/** Layers that may name the store's row types (import type only). */
const TYPES_OF_STORE = ['api', 'jobs'];

const layerRules = Object.entries(LAYERS_BELOW).map(([layer, allowed]) => ({
  name: `${layer}-imports-only-below`,
  comment: `src/${layer} may import only ${allowed.length ? allowed.map((l) => `src/${l}`).join(', ') : 'nothing else in src'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${layer}/`, ...allowed.map((l) => `^src/${l}/`), ...(COMPOSERS.includes(layer) ? ['^src/[^/]+\\.ts$'] : ['^src/config\\.ts$'])],
    // The shapes of stored rows may be named above the store (types only, never a query).
    ...(TYPES_OF_STORE.includes(layer) ? { dependencyTypesNot: ['type-only'] } : {}),
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import circles (also through types) tie modules that should stand alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'services-domain-internals',
      comment: 'Outside a services folder, import only its index.ts (its public face).',
      severity: 'error',
      from: { path: '^src/(?!services/([^/]+)/)', pathNot: '^src/services/deps\\.ts$' },
      to: { path: '^src/services/[^/]+/(?!index\\.ts$)[^/]+' },
    },
    {
      name: 'services-cross-domain-internals',
      comment: 'A services folder imports another folder only through its index.ts.',
      severity: 'error',
      from: { path: '^src/services/([^/]+)/' },
      to: { path: '^src/services/[^/]+/(?!index\\.ts$)', pathNot: '^src/services/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
