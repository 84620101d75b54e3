#!/usr/bin/env node
// Entry point of the `grantory` command. The sources are TypeScript, loaded through tsx's
// ESM hook so that what runs is always what is checked in (no stale build output).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
