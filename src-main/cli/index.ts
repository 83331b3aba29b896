#!/usr/bin/env node
import { lifecycle, main } from './program';

void main(process.argv.slice(2)).then((code) => {
  if (lifecycle.keepAlive) return;
  process.exitCode = code;
  // Exit only once stdout has drained: a pipe takes 64 KiB at a time and --json output can be larger.
  process.stdout.write('', () => process.exit(code));
});
