#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => { process.stderr.write(`tsrun: internal error: ${e?.stack ?? e}\n`); process.exit(1); },
);
