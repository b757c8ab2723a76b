// Finding an image the way people name it: `busybox`, `busybox:1.36`,
// the full name, or an ID prefix (the config digest, as `tsctl images` shows).
import { RuntimeError } from '../common/errors.js';
import { ImageStore, type ImageRecord } from './imageStore.js';
import { formatReference, parseReference } from './reference.js';

export function findImage(dataRoot: string, name: string): ImageRecord {
  const images = new ImageStore(dataRoot);
  let byName: ImageRecord | undefined;
  try {
    byName = images.get(formatReference(parseReference(name)));
  } catch { /* not a reference: maybe an ID */ }
  if (byName) return byName;
  const id = name.replace(/^sha256:/, '');
  if (/^[a-f0-9]{4,64}$/.test(id)) {
    const hits = images.list().filter((i) => i.config.slice(7).startsWith(id));
    if (hits.length >= 1 && new Set(hits.map((h) => h.config)).size === 1) return hits[0];
    if (hits.length > 1) throw new RuntimeError({ step: 'find image', path: name, detail: `the ID prefix matches ${hits.length} images` });
  }
  throw new RuntimeError({ step: 'find image', path: name, detail: 'no such image here (tsctl pull or tsctl import it first)' });
}
