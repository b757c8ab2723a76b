// Variable substitution in Dockerfile words, as dockerd 20.10's builder does
// it (buildkit v0.8's shell.Lex ProcessWord/ProcessWords): $VAR, ${VAR},
// ${VAR:-default}, ${VAR:+alternative} (no other modifiers: 20.10 refuses
// ${VAR-x}, ${VAR:?x}, ${VAR#x}), the escape character, literal single
// quotes, double quotes where only $ and escapes act. Plus which
// instructions the builder expands, and the ARG/ENV scoping of moby's
// BuildArgs as a small state object the builder keeps per build.
import { RuntimeError } from '../../common/errors.js';
import type { Instruction, InstructionKind } from './instructions.js';

/** Variables in scope, later entries winning (Docker's "k=v" list turned into a map). */
export type Environment = ReadonlyMap<string, string>;

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class Lexer {
  private pos = 0;
  private readonly chars: string[];

  constructor(source: string, private readonly env: Environment, private readonly escape: string) {
    this.chars = Array.from(source);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Reads up to `stop` (consumed) or the end; returns the text and the words it splits into. */
  run(stop?: string): { text: string; words: string[] } {
    let text = '';
    const words = new Words();
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (stop !== undefined && ch === stop) {
        this.next();
        return { text, words: words.done() };
      }
      if (ch === "'" || ch === '"' || ch === '$') {
        const part = ch === "'" ? this.singleQuoted() : ch === '"' ? this.doubleQuoted() : this.dollar();
        text += part;
        // An expanded variable splits into words; quoted text does not.
        if (ch === '$') words.addString(part);
        else words.addRaw(part);
        continue;
      }
      let c = this.next()!;
      if (c === this.escape) {
        const escaped = this.next();
        if (escaped === undefined) break;
        c = escaped;
        words.addRaw(c);
      } else words.addChar(c);
      text += c;
    }
    if (stop !== undefined) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.done() };
  }

  private singleQuoted(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new Error('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    this.next();
    let out = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new Error('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      let c = this.next()!;
      if (c === this.escape) {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) c = this.next()!;
      }
      out += c;
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.env.get(name) ?? '');
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new Error("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Error('syntax error: bad substitution');
    const name = this.name();
    const ch = this.next();
    if (ch === '}') return this.env.get(name) ?? '';
    if (ch === ':') {
      const modifier = this.next();
      let word: string;
      try {
        word = this.run('}').text;
      } catch (e) {
        if (this.peek() === undefined) throw new Error("syntax error: missing '}'");
        throw e;
      }
      const value = this.env.get(name) ?? '';
      if (modifier === '+') return value !== '' ? word : value;
      if (modifier === '-') return value === '' ? word : value;
      throw new Error(`unsupported modifier (${modifier ?? ''}) in substitution`);
    }
    throw new Error("missing ':' in substitution");
  }

  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && /\p{Nd}/u.test(ch)) {
        while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.next()!;
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

/** moby's wordsStruct: unquoted whitespace from text or variables separates words. */
class Words {
  private word = '';
  private inWord = false;
  private readonly words: string[] = [];

  addChar(ch: string): void {
    if (/\s/u.test(ch)) {
      if (this.inWord && this.word.length) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  done(): string[] {
    if (this.word.length) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.words;
  }
}

function lexError(source: string, e: unknown): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: `failed to process ${JSON.stringify(source)}`, detail: (e as Error).message });
}

/** One word expanded: quotes removed, whitespace kept (ProcessWord). */
export function processWord(word: string, env: Environment, escape = '\\'): string {
  try {
    return new Lexer(word, env, escape).run().text;
  } catch (e) {
    throw lexError(word, e);
  }
}

/** A word expanded and split at unquoted whitespace (ProcessWords: EXPOSE's `$PORTS` → several ports). */
export function processWords(word: string, env: Environment, escape = '\\'): string[] {
  try {
    return new Lexer(word, env, escape).run().words;
  } catch (e) {
    throw lexError(word, e);
  }
}

/**
 * What the builder expands, per instruction (dockerd 20.10): each listed
 * argument through processWord, EXPOSE's ports through processWords, FROM
 * (image and --platform) with the meta ARGs only. RUN, CMD, ENTRYPOINT,
 * SHELL, HEALTHCHECK, ONBUILD and MAINTAINER are left to the shell or as written.
 */
export const EXPANSION: Readonly<Record<InstructionKind, 'word' | 'words' | 'meta' | 'none'>> = {
  FROM: 'meta',
  ADD: 'word', // sources, destination, --chown
  COPY: 'word', // sources, destination, --chown (not --from)
  ENV: 'word', // keys and values
  LABEL: 'word', // keys and values
  ARG: 'word', // names and defaults
  WORKDIR: 'word',
  USER: 'word',
  VOLUME: 'word',
  STOPSIGNAL: 'word',
  EXPOSE: 'words',
  RUN: 'none',
  CMD: 'none',
  ENTRYPOINT: 'none',
  SHELL: 'none',
  HEALTHCHECK: 'none',
  ONBUILD: 'none',
  MAINTAINER: 'none',
};

/**
 * An instruction with its arguments expanded as dockerd does before running
 * it, per EXPANSION: every pair or argument with the same environment (so
 * `ENV A=1 B=$A` gives B the A from before). FROM is expanded with whatever
 * `env` is passed: the builder passes BuildArgs.metaEnvironment().
 */
export function expandInstruction(ins: Instruction, env: Environment, escape = '\\'): Instruction {
  const w = (s: string) => processWord(s, env, escape);
  switch (ins.kind) {
    case 'FROM': {
      const flags = { ...ins.flags };
      if (flags.platform !== undefined) flags.platform = w(flags.platform);
      return { ...ins, flags, image: w(ins.image) };
    }
    case 'COPY':
    case 'ADD': {
      const flags = { ...ins.flags };
      if (flags.chown !== undefined) flags.chown = w(flags.chown);
      return { ...ins, flags, sources: ins.sources.map(w), dest: w(ins.dest) };
    }
    case 'ENV':
    case 'LABEL':
      return { ...ins, pairs: ins.pairs.map((p) => ({ key: w(p.key), value: w(p.value) })) };
    case 'ARG':
      return { ...ins, args: ins.args.map((a) => (a.default === undefined ? { name: w(a.name) } : { name: w(a.name), default: w(a.default) })) };
    case 'WORKDIR':
      return { ...ins, path: w(ins.path) };
    case 'USER':
      return { ...ins, user: w(ins.user) };
    case 'STOPSIGNAL':
      return { ...ins, signal: w(ins.signal) };
    case 'VOLUME':
      return { ...ins, paths: ins.paths.map(w) };
    case 'EXPOSE':
      return { ...ins, ports: ins.ports.flatMap((p) => processWords(p, env, escape)) };
    default:
      return ins;
  }
}

/** Args any build may pass without an ARG line (moby's builtinAllowedBuildArgs); never reported unused. */
export const PREDEFINED_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

/**
 * moby's BuildArgs: the --build-arg values (null: named without a value and
 * not set in the client's environment), the meta ARGs before the first FROM,
 * and which were referenced by an ARG line. Per stage: the ARGs declared in it.
 */
export class BuildArgs {
  private readonly meta = new Map<string, string | undefined>();
  private readonly referenced = new Set<string>();

  constructor(private readonly fromOptions: ReadonlyMap<string, string | null>) {}

  private override(name: string): string | undefined {
    const v = this.fromOptions.get(name);
    return v === null ? undefined : v;
  }

  /** An ARG before the first FROM; its default already expanded with metaEnvironment(). */
  addMetaArg(name: string, defaultValue: string | undefined): void {
    this.meta.set(name, defaultValue);
    this.referenced.add(name);
  }

  /** What FROM lines expand with: meta ARGs (overridden by --build-arg) and predefined args given. */
  metaEnvironment(): Map<string, string> {
    const env = new Map<string, string>();
    for (const name of new Set([...this.meta.keys(), ...PREDEFINED_ARGS])) {
      const v = this.override(name) ?? this.meta.get(name);
      if (v !== undefined) env.set(name, v);
    }
    return env;
  }

  newStage(): StageArgs {
    return new StageArgs(this);
  }

  /** @internal the value an ARG declared in a stage has: --build-arg, else its default, else the meta ARG's. */
  valueOf(name: string, declared: boolean, defaultValue: string | undefined): string | undefined {
    const o = this.override(name);
    if (o !== undefined && (declared || PREDEFINED_ARGS.has(name))) return o;
    if (!declared) return undefined;
    if (defaultValue !== undefined) return defaultValue;
    const metaOverride = this.meta.has(name) ? (this.override(name) ?? this.meta.get(name)) : undefined;
    return metaOverride;
  }

  /** @internal */
  markReferenced(name: string): void {
    this.referenced.add(name);
  }

  /** --build-arg names no ARG line declared (predefined ones excepted), sorted: Docker's warning lists them. */
  unused(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !this.referenced.has(k) && !PREDEFINED_ARGS.has(k)).sort();
  }
}

/** The ARGs of one stage: a meta ARG is visible only once re-declared here (`ARG NAME`). */
export class StageArgs {
  private readonly declared = new Map<string, string | undefined>();

  constructor(private readonly build: BuildArgs) {}

  /** An ARG line in the stage; its default already expanded with environment(). */
  declare(name: string, defaultValue: string | undefined): void {
    this.declared.set(name, defaultValue);
    this.build.markReferenced(name);
  }

  /** The ARGs with a value, predefined ones passed by --build-arg included. */
  values(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of new Set([...this.declared.keys(), ...PREDEFINED_ARGS])) {
      const v = this.build.valueOf(name, this.declared.has(name), this.declared.get(name));
      if (v !== undefined) out.set(name, v);
    }
    return out;
  }

  /**
   * What a word of this stage expands with (and what RUN sees besides the
   * image's Env): the stage's ENV first, then its ARGs whose names no ENV
   * has — ENV wins over ARG of the same name.
   */
  environment(env: ReadonlyArray<string> | ReadonlyMap<string, string>): Map<string, string> {
    const out = env instanceof Map ? new Map(env) : envListToMap(env as ReadonlyArray<string>);
    for (const [k, v] of this.values()) if (!out.has(k)) out.set(k, v);
    return out;
  }
}

/** Docker's `KEY=value` list as a map, a later entry winning; a bare KEY is empty. */
export function envListToMap(env: ReadonlyArray<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq < 0) out.set(e, '');
    else out.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return out;
}

/** Docker's warning text for unused build args, or null when all were used. */
export function unusedBuildArgsWarning(names: string[]): string | null {
  return names.length ? `[Warning] One or more build-args [${names.join(' ')}] were not consumed` : null;
}
