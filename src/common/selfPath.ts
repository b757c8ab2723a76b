// The file a module runs from. bun's compiler freezes import.meta.url at build
// time (scripts/bunBundle.mjs compiles dist/ into the executable dist/bun/tsrun
// and defines TSRUN_BUNDLED), which would tie it to the path it was built at;
// there a module is the executable itself, so a moved or copied checkout loads
// its own addon and helper. dist/bun/ is as deep as every dist/<folder>/, so
// paths relative to either stay the same.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const TSRUN_BUNDLED: boolean | undefined;

export function selfPath(importMetaUrl: string): string {
  return typeof TSRUN_BUNDLED !== 'undefined' && TSRUN_BUNDLED ? process.execPath : fileURLToPath(importMetaUrl);
}

/** build/Release of the checkout: node-gyp's addon, tsrun-init, tsrun-shim, tsrun-cli. */
export function nativeBuildDir(): string {
  return join(dirname(selfPath(import.meta.url)), '..', '..', 'build', 'Release');
}
