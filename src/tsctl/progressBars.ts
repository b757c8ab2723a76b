// Pull progress for people: on a terminal one bar per layer, redrawn in place;
// otherwise one line per layer when it finishes (logs stay readable).
import type { Progress } from '../engine/engine.js';
import { humanBytes } from './context.js';

interface Row {
  id: string;
  total: number;
  done: number;
  state: string;
}

export function progressFor(out: NodeJS.WriteStream, quiet: boolean): Progress {
  const rows: Row[] = [];
  const find = (id: string) => rows.find((r) => r.id === id);
  if (quiet) return { layer() {}, update() {}, status() {}, done() {} };
  if (!out.isTTY) {
    return {
      layer(id, total) { if (!find(id)) rows.push({ id, total, done: 0, state: 'waiting' }); },
      update(id, done) { const r = find(id); if (r) r.done = done; },
      status(id, state) {
        const r = find(id);
        if (r && r.state !== state && state !== 'unpacking') out.write(`${id.slice(7, 19)}: ${state} (${humanBytes(r.total)})\n`);
        if (r) r.state = state;
      },
      done() {},
    };
  }
  let drawn = 0;
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = 30;
    let s = drawn ? `\x1b[${drawn}A` : '';
    for (const r of rows) {
      const frac = r.total ? Math.min(1, r.done / r.total) : 1;
      const fill = Math.round(frac * width);
      const bar = r.state === 'downloading' ? `[${'='.repeat(fill)}${fill < width ? '>' : ''}${' '.repeat(Math.max(0, width - fill - 1))}]` : '';
      s += `\x1b[2K${r.id.slice(7, 19)}: ${r.state.padEnd(12)} ${bar} ${humanBytes(r.done)}/${humanBytes(r.total)}\n`;
    }
    drawn = rows.length;
    out.write(s);
  };
  return {
    layer(id, total) { if (!find(id)) rows.push({ id, total, done: 0, state: 'waiting' }); draw(true); },
    update(id, done) { const r = find(id); if (r) { r.done = done; r.state = 'downloading'; } draw(); },
    status(id, state) { const r = find(id); if (r) { r.state = state; if (state !== 'unpacking') r.done = r.total; } draw(true); },
    done() { if (rows.length) draw(true); },
  };
}
