// addon/protocol.def is the one declaration of the wire protocol with
// tsrun-init. This test reads it on its own (not through the generator) and
// checks that the generated TypeScript says the same, that tsc refuses a step
// of the wrong length, and that neither side writes a name of its own.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FIFO_REPORT, PLAN_MAGIC, PLAN_OPS, planOp, SYNC, SYNC_ARITY, SYNC_WORD } from '../../src/linux/generated/protocol.js';
import { SHIM, SHIM_ARITY } from '../../src/common/generated/shimProtocol.js';

const ROOT = resolve(import.meta.dirname, '../..');
const def = readFileSync(join(ROOT, 'addon/protocol.def'), 'utf8');
const calls = (macro: string) =>
  [...def.matchAll(new RegExp(`^${macro}\\((.*)\\)\\s*$`, 'gm'))].map((m) => m[1].split(',').map((a) => a.trim().replace(/^"|"$/g, '')));

const ops = calls('PLAN_OP').map(([ident, name, arity, shape, args]) => ({ ident, name, arity: Number(arity), variadic: shape === 'VARIADIC', args: args.split(' ').filter(Boolean) }));
const messages = calls('SYNC_MSG').map(([name, , min, max, args]) => ({ name, min: Number(min), max: Number(max), args: args.split(' ').filter(Boolean) }));
const shimMessages = calls('SHIM_MSG').map(([name, , min, max, args]) => ({ name, min: Number(min), max: Number(max), args: args.split(' ').filter(Boolean) }));
const camel = (s: string) => s.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase());

describe('the protocol declaration (addon/protocol.def)', () => {
  it('declares each op once, with as many argument names as its arity', () => {
    expect(ops.length).toBeGreaterThan(40);
    expect(new Set(ops.map((o) => o.name)).size).toBe(ops.length);
    for (const op of ops) {
      const fixed = op.variadic ? op.args.slice(0, -1) : op.args;
      expect(fixed.length, op.name).toBe(op.arity);
      if (op.variadic) expect(op.args.at(-1), op.name).toMatch(/\.\.\.$/);
      expect(op.name, 'a name is its ident with dashes').toBe(op.ident.replace(/_/g, '-'));
    }
  });

  it('is what the generated module says, builder for builder', () => {
    expect(Object.keys(PLAN_OPS)).toEqual(ops.map((o) => o.name));
    for (const op of ops) {
      expect(PLAN_OPS[op.name as keyof typeof PLAN_OPS], op.name).toEqual({ arity: op.arity, variadic: op.variadic, args: op.args });
      const build = (planOp as Record<string, (...a: unknown[]) => { op: string; pointer: string; args: unknown[] }>)[camel(op.ident)];
      // Function.length counts the parameters before a rest parameter: the pointer and the fixed arguments.
      expect(build.length, op.name).toBe(1 + op.arity);
      const step = build('/p', ...Array.from({ length: op.arity + (op.variadic ? 2 : 0) }, (_, i) => i));
      expect(step.op).toBe(op.name);
      expect(step.pointer).toBe('/p');
      expect(step.args).toHaveLength(op.arity + (op.variadic ? 2 : 0));
    }
    expect(Object.keys(planOp)).toHaveLength(ops.length);
  });

  it('names the sync messages, their arities, the plan magic and the fifo report', () => {
    expect(messages.map((m) => m.name)).toEqual(['GO', 'PID', 'SECCOMPFD', 'READY', 'ERR']);
    for (const m of messages) {
      expect(SYNC[m.name as keyof typeof SYNC]).toBe(m.name);
      expect(SYNC_ARITY[m.name as keyof typeof SYNC_ARITY]).toEqual({ min: m.min, max: m.max, args: m.args });
    }
    expect(SYNC_ARITY.ERR.args).toEqual(['step', 'syscall', 'errno', 'path', 'pointer', 'detail']);
    expect(SYNC_WORD.STATES).toBe(calls('SYNC_WORD')[0][0]);
    expect(PLAN_MAGIC).toBe(calls('PLAN_MAGIC')[0][0]);
    expect(FIFO_REPORT.STARTED).toBe(calls('FIFO_REPORT')[0][1]);
  });

  it('names the shim messages and their arities (docs/shim.md)', () => {
    expect(shimMessages.map((m) => m.name)).toEqual(['START', 'KILL', 'EXEC', 'ATTACH', 'RESIZE', 'WAIT', 'STATE', 'DELETE', 'IN', 'CLOSEIN', 'OK', 'OUT', 'EXIT']);
    for (const m of shimMessages) {
      expect(SHIM[m.name as keyof typeof SHIM]).toBe(m.name);
      expect(SHIM_ARITY[m.name as keyof typeof SHIM_ARITY]).toEqual({ min: m.min, max: m.max, args: m.args });
    }
  });

  it('lets tsc refuse a step with too few or too many arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-protocol-'));
    try {
      const file = join(dir, 'calls.ts');
      const protocol = join(ROOT, 'src/linux/generated/protocol.js');
      writeFileSync(file, [
        `import { planOp } from ${JSON.stringify(protocol)};`,
        `planOp.mount('', '', '/proc', 'proc', 0, '', 0, 0, '0', '1', '0', -1, '1');`,
        `planOp.user('', 0, 0, 1, 2, 3);`,
        '// @ts-expect-error the cgroup builder once sent 9 of the 12',
        `planOp.mount('', '', '/sys/fs/cgroup', '', 0, '', 0, 0, '0', '0');`,
        '// @ts-expect-error one too many',
        `planOp.setns('', '/proc/1/ns/net', 0, 'extra');`,
        '// @ts-expect-error a variadic op still needs its fixed arguments',
        `planOp.user('', 0);`,
      ].join('\n'));
      const program = ts.createProgram([file], {
        strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')], skipLibCheck: true,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('is the only place the names are written', () => {
    const init = join(ROOT, 'addon/init');
    const cFiles = readdirSync(init).filter((f) => /\.[ch]$/.test(f)).map((f) => ({ f, text: readFileSync(join(init, f), 'utf8') }));
    // Every op is implemented once, by the function the declaration names, and nothing else is an op.
    const defined = cFiles.flatMap(({ text }) => [...text.matchAll(/^void op_(\w+)\(struct record \*r\) \{/gm)].map((m) => m[1]));
    expect([...defined].sort()).toEqual(ops.map((o) => o.ident).sort());
    // No message name or dashed op name as a string literal (a one-word op name is also a syscall's, as in fail(..., "mount", ...)).
    const cNames = [...messages.map((m) => m.name), ...shimMessages.map((m) => m.name), 'STATES', ...ops.map((o) => o.name).filter((n) => n.includes('-'))];
    // The same for the shim and the code both share: their names come from protocol.h too.
    const others = ['addon/shim', 'addon/common'].flatMap((d) =>
      readdirSync(join(ROOT, d)).filter((f) => /\.[ch]$/.test(f)).map((f) => ({ f: `${d}/${f}`, text: readFileSync(join(ROOT, d, f), 'utf8') })));
    expect(others.some(({ f }) => f.startsWith('addon/shim/'))).toBe(true);
    for (const { f, text } of [...cFiles, ...others]) for (const n of cNames) expect(text.includes(`"${n}"`), `${f}: "${n}"`).toBe(false);
    // TypeScript: the plan builders, the runtime's side of the sync socket, the engine's of the shim's.
    // (IN is left out: it is also a word of signal names, SIGRTMIN.)
    const tsNames = [...cNames, 'TSP1', 'OK', 'OUT', 'EXIT', 'CLOSEIN'].filter((n) => n !== 'IN');
    for (const dir of ['src/linux', 'src/runtime', 'src/engine', 'src/common']) {
      for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(join(ROOT, dir, f), 'utf8');
        expect(text, `${dir}/${f}`).not.toMatch(/\bop: '/);
        for (const n of tsNames) expect(text.includes(`'${n}'`) || text.includes(`"${n}"`), `${dir}/${f}: '${n}'`).toBe(false);
      }
    }
  });
});
