#!/usr/bin/env node
import { lifecycle, main } from './program';

void main(process.argv.slice(2)).then((code) => {
  if (!lifecycle.keepAlive) process.exit(code);
});
