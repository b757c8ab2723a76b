// Where npm installed bun (the engine the front binary prefers, see
// addon/fast/handover.c), compile the CLI into a standalone executable with JSC
// bytecode: dist/bun/tsrun. bun then neither resolves nor parses ~60 modules,
// nor looks for a script's package.json, on every call. Measured against bun
// running a bytecode bundle file: create 27.8 → 17.3 ms, exec 21.8 → 13.2 ms
// (medians of 20). It is bun's binary plus our bundle (~110 MB). Built from
// the same dist/ that Node runs; without bun nothing is built and the front
// binary runs bin/tsrun.js.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bunBinary } from './bunBinary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bun');
rmSync(out, { recursive: true, force: true });
const bun = bunBinary(root);
if (bun) {
  execFileSync(bun, [
    'build', join(root, 'bin', 'tsrun.js'), '--compile', '--bytecode', '--outfile', join(out, 'tsrun'),
    // Modules find the checkout through the executable's path, not the build-time
    // import.meta.url bun would freeze (src/common/selfPath.ts).
    '--define', 'TSRUN_BUNDLED=true',
    // We run as root in the engine's working directory (the bundle): never read
    // a bunfig.toml there (its `preload` runs code) or a .env.
    '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig',
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
}
