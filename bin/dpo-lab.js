#!/usr/bin/env node
// The installed CLI: runs the built bundle (npm run build). From a checkout, `npm run lab -- <command>` runs the sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('dpo-lab is not built yet: run `npm run build` (or use `npm run --silent lab -- <command>`)\n');
  process.exit(2);
}
await import(cli);
