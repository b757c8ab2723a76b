// Image names → what they point at. One JSON file per name, written by rename,
// so a pull that fails part way never leaves a name pointing at missing content.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { JsonRecords } from './jsonRecords.js';
import type { Descriptor } from './mediaTypes.js';

export interface ImageRecord {
  name: string;
  /** What the name resolved to at the source: an index or a manifest. */
  target: Descriptor;
  /** The manifest for this machine's platform (the one unpacked). */
  manifest: Descriptor;
  /** The image config's digest: the image ID. */
  config: string;
  /** When it arrived here. */
  updated: string;
  /**
   * Not a name anyone gave: it keeps an image a daemon must keep (a container uses it)
   * after its last name went, so that the collector leaves its content (docker's <none>:<none>).
   */
  hidden?: boolean;
}

export class ImageStore {
  private readonly records: JsonRecords<ImageRecord>;
  constructor(dataRoot: string) {
    this.records = new JsonRecords(join(dataRoot, 'images'), (name) => `${createHash('sha256').update(name).digest('hex')}.json`);
  }

  get(name: string): ImageRecord | undefined {
    return this.records.get(name);
  }

  put(record: ImageRecord): void {
    this.records.put(record.name, record);
  }

  remove(name: string): void {
    this.records.remove(name);
  }

  list(): ImageRecord[] {
    return this.records.list().sort((a, b) => a.name.localeCompare(b.name));
  }
}
