// The builder's entry to the Dockerfile parser (dockerfile.ts).
import { parseDockerfile } from './dockerfile.js';
import type { Dockerfile } from './instructions.js';

export function parseDockerfileText(text: string, name = 'Dockerfile'): Dockerfile {
  return parseDockerfile(text, { name });
}
