import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/engine/events.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the persisted event log', () => {
  it('appends events as JSON lines and loads them back, past a torn last line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'events-'));
    const path = join(dir, 'events.log');
    const a = new EventLog();
    await a.persist(path, (e) => { throw e; });
    a.emit('container', 'create', 'c1', { name: 'x' });
    a.emit('container', 'die', 'c1', { exitCode: '3' });
    await a.close();
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).Action)).toEqual(['create', 'die']);
    writeFileSync(path, readFileSync(path, 'utf8') + '{"Type":"contai', { flag: 'w' });
    const b = new EventLog();
    await b.persist(path, (e) => { throw e; });
    expect(b.since(0).map((e) => e.Action)).toEqual(['create', 'die']);
    b.emit('container', 'destroy', 'c1', {});
    await b.close();
    const c = new EventLog();
    await c.persist(path, (e) => { throw e; });
    expect(c.since(0).map((e) => `${e.Action} ${e.Actor.Attributes.exitCode ?? ''}`.trim())).toEqual(['create', 'die 3', 'destroy']);
    await c.close();
  });

  it('rotates at the size bound and still loads the rotated generation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'events-'));
    const path = join(dir, 'events.log');
    const a = new EventLog();
    await a.persist(path, (e) => { throw e; }, 1000);
    for (let i = 0; i < 30; i++) {
      a.emit('container', 'start', `c${i}`, {});
      await a.flush();
    }
    await a.close();
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(readFileSync(path).length).toBeLessThan(1000);
    const b = new EventLog();
    await b.persist(path, (e) => { throw e; }, 1000);
    const ids = b.since(0).map((e) => e.Actor.ID);
    expect(ids.at(-1)).toBe('c29');
    expect(ids.length).toBeGreaterThan(5);
    await b.close();
  });
});
