/** Types of scripts/cli-operations.js for the tests that import it. */
export function generate(document: unknown): string;
