// The addon's seqpacket watch lets go of its callback once the watch is closed
// (by close() or at the peer's EOF): the callback's strong reference used to be
// kept, and through the closure every ShimConnection tsd ever opened stayed in
// its heap (issue 22: ~6 KiB per container created, started and removed).
// A python3 listener on a temp socket is the peer. Needs the addon built.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../../src/native/addon.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1024); print('ready', flush=True)
held = []
while True:
    c, _ = s.accept()
    if sys.argv[2] == 'eof': c.close()
    else: held.append(c)
`;

let dir: string;
const listeners: ChildProcess[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seqpacket-'));
});
afterAll(() => {
  for (const p of listeners) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function listen(mode: 'eof' | 'hold'): Promise<string> {
  const path = join(dir, `${mode}.sock`);
  const p = spawn('python3', ['-c', LISTENER, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  listeners.push(p);
  await new Promise<void>((res, rej) => {
    p.stdout!.once('data', () => res());
    p.once('exit', (code) => rej(new Error(`the listener exited with ${code}`)));
  });
  return path;
}

/** How many of the callbacks' closures are still alive after full collections. */
async function alive(refs: WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 5; i++) {
    // libuv frees a closed handle on a later loop turn; a WeakRef holds until the job ends.
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  return refs.filter((r) => r.deref() !== undefined).length;
}

const COUNT = 200;

describe('seqpacketWatch', () => {
  it(`releases the callback of a watch closed by close() (${COUNT} watches)`, async () => {
    const path = await listen('hold');
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < COUNT; i++) {
      const owner = { payload: Buffer.alloc(64) };
      refs.push(new WeakRef(owner));
      const close = addon().seqpacketWatch(addon().seqpacketConnect(path), () => void owner.payload);
      close();
    }
    expect(await alive(refs)).toBeLessThan(COUNT / 10);
  });

  it(`releases the callback of a watch ended by the peer (${COUNT} watches)`, async () => {
    const path = await listen('eof');
    const refs: WeakRef<object>[] = [];
    const ends: Promise<void>[] = [];
    for (let i = 0; i < COUNT; i++) {
      const owner = { payload: Buffer.alloc(64), close: () => {} };
      refs.push(new WeakRef(owner));
      ends.push(new Promise<void>((res) => {
        // As ShimConnection: the owner keeps the close function, the callback the owner.
        owner.close = addon().seqpacketWatch(addon().seqpacketConnect(path), (msg) => {
          if (msg === null) res();
          void owner.payload;
        });
      }));
    }
    await Promise.all(ends);
    expect(await alive(refs)).toBeLessThan(COUNT / 10);
  });
});
