/** Builds dist/ afresh (scripts/build-server.js); resolves with the number of files written. */
export function buildServer(): Promise<number>;
