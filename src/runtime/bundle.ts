// A bundle's config.json, read and validated (schema, then the semantic checks).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../spec/validateConfig.js';
import type { Spec } from '../spec/types.js';
import { RuntimeError } from '../common/errors.js';

export function loadBundleConfig(bundle: string): Spec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw RuntimeError.fromSystem('read the bundle config', e, { path: file });
  }
  return parseConfig(text, file);
}
