// Bad layers, generated: valid layer tars (gzip or plain) with bytes flipped,
// cut or repeated are unpacked in-process. The unpacker either succeeds or
// names what it refuses (a RuntimeError or a tar format error); it never
// throws anything else, never hangs, and never writes outside its directory.
// Cases: TSRUN_FUZZ_CASES (default 120 in the suite).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { unpackStream } from '../../src/image/unpack/unpacker.js';
import { buildLayer, busyboxFiles } from '../images/buildImage.js';

const CASES = Number(process.env.TSRUN_FUZZ_CASES ?? 120);
let seed = Number(process.env.TSRUN_FUZZ_SEED ?? 20261122);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

let work: string;
let sources: Buffer[];

function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const kind = rand();
  if (kind < 0.5) {
    for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) out[Math.floor(rand() * out.length)] ^= 1 + Math.floor(rand() * 255);
    return out;
  }
  if (kind < 0.8) return out.subarray(0, Math.floor(rand() * out.length));
  const at = Math.floor(rand() * out.length);
  return Buffer.concat([out.subarray(0, at), out.subarray(Math.floor(rand() * at))]);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'layer-fuzz-'));
  const files = Object.fromEntries(Object.entries(busyboxFiles()).slice(0, 40));
  const small = { ...files, 'etc/motd': 'hi\n', 'a/b/c/d': 'deep', 'x/.wh.y': '', 'opq/.wh..wh..opq': '', ['l'.repeat(150) + '/f']: 'long name' };
  const layers = [buildLayer(small, 'none'), buildLayer(small, 'gzip')];
  sources = layers.flatMap((l) => [l.blob, l.tar]);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('layer unpacking under generated corruption', () => {
  it(`${CASES} corrupted layers: a named refusal or success, nothing outside the target`, async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    const unnamed: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const input = mutate(sources[i % sources.length]);
      const dir = join(outside, `case-${i}`);
      mkdirSync(dir);
      try {
        await Promise.race([
          unpackStream(Readable.from([input]), dir, i % 2 ? 'overlay' : 'delete', 'sha256:' + '0'.repeat(64), `case ${i}`),
          new Promise((_, reject) => setTimeout(() => reject(new Error('HANG')), 10_000)),
        ]);
      } catch (e) {
        const name = (e as Error).name;
        if (name !== 'RuntimeError') unnamed.push(`case ${i}: ${name}: ${(e as Error).message}`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(unnamed).toEqual([]);
    // Nothing was written beside the case directories.
    expect(readdirSync(outside)).toEqual([]);
  }, 300_000);
});
