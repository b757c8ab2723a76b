// Image names → what they point at. One JSON file per name, written by rename,
// so a pull that fails part way never leaves a name pointing at missing content.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
}

export class ImageStore {
  private readonly dir: string;
  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'images');
  }

  private file(name: string): string {
    return join(this.dir, `${createHash('sha256').update(name).digest('hex')}.json`);
  }

  get(name: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.file(name), 'utf8')) as ImageRecord;
    } catch {
      return undefined;
    }
  }

  put(record: ImageRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const f = this.file(record.name);
    writeFileSync(`${f}.${process.pid}.tmp`, JSON.stringify(record, null, 2));
    renameSync(`${f}.${process.pid}.tmp`, f);
  }

  remove(name: string): boolean {
    const had = this.get(name) !== undefined;
    rmSync(this.file(name), { force: true });
    return had;
  }

  list(): ImageRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: ImageRecord[] = [];
    for (const n of names) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as ImageRecord);
      } catch { /* a torn file cannot exist (rename); skip anything else */ }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
