// --log / --log-format. JSON lines come from pino with `level` as a word, `msg`
// and an RFC 3339 `time`: containerd's shim reads the last error's msg. pino is
// loaded only when a line is actually written, so quiet verbs never pay for it.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { GlobalOptions } from './globals.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

interface PinoLike {
  [level: string]: unknown;
  flush?: () => void;
}

let pinoLogger: PinoLike | undefined;

function jsonLogger(file: string): PinoLike {
  if (!pinoLogger) {
    // bun's compiler must see require('pino') to put pino into dist/bun/tsrun (that
    // executable resolves no bare module from disk); Node's ES modules have no require.
    const pino = (typeof require === 'function' ? require('pino') : createRequire(import.meta.url)('pino')) as typeof import('pino');
    pinoLogger = pino(
      {
        base: null,
        level: 'debug',
        formatters: { level: (label: string) => ({ level: label }) },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      pino.destination({ dest: file, sync: true, append: true, mkdir: true }),
    ) as unknown as PinoLike;
  }
  return pinoLogger;
}

export function writeLog(g: GlobalOptions, level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (!g.log || (level === 'debug' && !g.debug)) return;
  try {
    if (g.logFormat === 'json') {
      (jsonLogger(g.log)[level] as (obj: object, msg: string) => void)(fields, msg);
    } else {
      const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('');
      appendFileSync(g.log, `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
    }
  } catch (e) {
    process.stderr.write(`tsrun: cannot write log ${g.log}: ${(e as Error).message}\n`);
  }
}
