// Records kept as one JSON file each in a directory, written by rename so a
// reader never sees half a record. Image names and containers are stored so.
import { writeFileAtomic } from '../common/atomicFile.js';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class JsonRecords<T> {
  /** `fileName` maps a record's key to its file name (ending in .json). */
  constructor(private readonly dir: string, private readonly fileName: (key: string) => string) {}

  get(key: string): T | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, this.fileName(key)), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  put(key: string, record: T): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, this.fileName(key));
    writeFileAtomic(file, JSON.stringify(record, null, 2));
  }

  remove(key: string): void {
    rmSync(join(this.dir, this.fileName(key)), { force: true });
  }

  list(): T[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: T[] = [];
    for (const n of names) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as T);
      } catch { /* a torn file cannot exist (rename); skip anything else */ }
    }
    return out;
  }
}
