import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/image/build/dockerfile.js';
import type { Instruction } from '../../src/image/build/instructions.js';
import {
  BuildArgs,
  EXPANSION,
  envListToMap,
  expandInstruction,
  processWord,
  processWords,
  unusedBuildArgsWarning,
} from '../../src/image/build/substitute.js';

const env = new Map([
  ['A', 'a'],
  ['EMPTY', ''],
  ['SP', 'x  y'],
  ['_u1', 'under'],
]);

describe('processWord (shell.Lex ProcessWord)', () => {
  it.each([
    ['$A', 'a'],
    ['${A}', 'a'],
    ['pre${A}post', 'preapost'],
    ['$A$A', 'aa'],
    ['$Ab', ''],
    ['${A}b', 'ab'],
    ['$_u1', 'under'],
    ['$UNSET', ''],
    ['${UNSET:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${A:-dflt}', 'a'],
    ['${A:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${UNSET:+alt}', ''],
    ['${UNSET:-$A-x}', 'a-x'],
    ['${UNSET:-${A}}', 'a'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$/x', '$/x'],
    ['$1x', 'x'],
    ['$@', ''],
    ['\\$A', '$A'],
    ['\\\\$A', '\\a'],
    ['a\\ b', 'a b'],
    ['a\\', 'a'],
    ["'$A'", '$A'],
    ["'a\\b'", 'a\\b'],
    ['"$A"', 'a'],
    ['"${A} \\$A \\" \\x"', 'a $A " \\x'],
    ['"it\'s"', "it's"],
    ['$SP', 'x  y'],
    ['"a"\'b\'c', 'abc'],
  ])('%j → %j', (word, expected) => {
    expect(processWord(word, env)).toBe(expected);
  });

  it('honours the backtick escape', () => {
    expect(processWord('`$A \\x', env, '`')).toBe('$A \\x');
    expect(processWord('"`"x"', env, '`')).toBe('"x');
  });

  it.each([
    ['${', "syntax error: missing '}'"],
    ['${A', "missing ':' in substitution"],
    ['${}', 'syntax error: bad substitution'],
    ['${:-x}', 'syntax error: bad substitution'],
    ['${A-x}', "missing ':' in substitution"],
    ['${A:?x}', 'unsupported modifier (?) in substitution'],
    ['${A:-x', "syntax error: missing '}'"],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
  ])('refuses %j', (word, message) => {
    expect(() => processWord(word, env)).toThrow(`failed to process ${JSON.stringify(word)}: ${message}`);
  });
});

describe('processWords (EXPOSE $PORTS)', () => {
  it.each([
    ['$P', ['80', '443/udp']],
    ['"$P"', [' 80  443/udp ']],
    ['8080 $P', ['8080', '80', '443/udp']],
    ['a\\ b', ['a b']],
    ['', []],
  ])('%j', (word, words) => {
    expect(processWords(word, new Map([['P', ' 80  443/udp ']]))).toEqual(words);
  });
});

describe('which instructions expand', () => {
  it('RUN, CMD, ENTRYPOINT are left to the shell; FROM uses the meta ARGs; EXPOSE splits words', () => {
    expect([EXPANSION.RUN, EXPANSION.CMD, EXPANSION.ENTRYPOINT, EXPANSION.SHELL, EXPANSION.HEALTHCHECK, EXPANSION.ONBUILD]).toEqual(Array(6).fill('none'));
    expect(EXPANSION.FROM).toBe('meta');
    expect(EXPANSION.EXPOSE).toBe('words');
    for (const k of ['ADD', 'COPY', 'ENV', 'LABEL', 'ARG', 'WORKDIR', 'USER', 'VOLUME', 'STOPSIGNAL'] as const) expect(EXPANSION[k]).toBe('word');
  });
});

describe('BuildArgs scoping', () => {
  it('meta ARGs reach FROM; inside a stage only when re-declared without a value', () => {
    const b = new BuildArgs(new Map([['V', '2']]));
    b.addMetaArg('V', '1');
    b.addMetaArg('BASE', 'busybox');
    expect(Object.fromEntries(b.metaEnvironment())).toEqual({ V: '2', BASE: 'busybox' });
    const s = b.newStage();
    expect(Object.fromEntries(s.values())).toEqual({});
    s.declare('BASE', undefined);
    s.declare('V', undefined);
    expect(Object.fromEntries(s.values())).toEqual({ BASE: 'busybox', V: '2' });
    // A new stage starts without them again.
    expect(b.newStage().values().size).toBe(0);
  });

  it('a --build-arg overrides an ARG default; an ARG without default or value is unset', () => {
    const b = new BuildArgs(new Map<string, string | null>([['X', 'fromcli'], ['N', null]]));
    const s = b.newStage();
    s.declare('X', 'dflt');
    s.declare('Y', 'ydflt');
    s.declare('N', undefined);
    s.declare('Z', undefined);
    expect(Object.fromEntries(s.values())).toEqual({ X: 'fromcli', Y: 'ydflt' });
  });

  it('ENV wins over an ARG of the same name', () => {
    const b = new BuildArgs(new Map([['A', 'arg']]));
    const s = b.newStage();
    s.declare('A', undefined);
    s.declare('B', 'argb');
    expect(Object.fromEntries(s.environment(['A=env', 'PATH=/bin']))).toEqual({ A: 'env', PATH: '/bin', B: 'argb' });
    expect(processWord('$A-$B', s.environment(['A=env']))).toBe('env-argb');
  });

  it('predefined proxy args need no declaration and are never reported unused', () => {
    const b = new BuildArgs(new Map([['http_proxy', 'http://p:3128'], ['NO_PROXY', 'x'], ['UNUSED', '1'], ['OTHER', '2'], ['USED', '3']]));
    const s = b.newStage();
    s.declare('USED', undefined);
    expect(Object.fromEntries(s.values())).toEqual({ http_proxy: 'http://p:3128', NO_PROXY: 'x', USED: '3' });
    expect(b.unused()).toEqual(['OTHER', 'UNUSED']);
    expect(unusedBuildArgsWarning(b.unused())).toBe('[Warning] One or more build-args [OTHER UNUSED] were not consumed');
    expect(unusedBuildArgsWarning([])).toBeNull();
  });

  it('a meta ARG counts as consumed even when no stage uses it', () => {
    const b = new BuildArgs(new Map([['M', '1']]));
    b.addMetaArg('M', undefined);
    expect(b.unused()).toEqual([]);
  });

  it('envListToMap: later entries win, a bare name is empty', () => {
    expect(Object.fromEntries(envListToMap(['A=1', 'B', 'A=2=3']))).toEqual({ A: '2=3', B: '' });
  });
});

describe('expandInstruction', () => {
  const vars = new Map([['V', '1.0'], ['D', '/app dir'], ['P', '80 443'], ['U', 'nobody']]);
  const expand = (line: string): Record<string, unknown> => {
    const ins = parseDockerfile(`FROM x\n${line}\n`).stages[0].instructions[0];
    const { loc: _l, original: _o, ...rest } = expandInstruction(ins, vars) as Instruction & Record<string, unknown>;
    return rest;
  };
  it.each([
    ['COPY --chown=$U --from=$V a-$V "$D" /dst/$V/', { kind: 'COPY', flags: { chown: 'nobody', from: '$V' }, sources: ['a-1.0', '/app dir'], dest: '/dst/1.0/' }],
    ['ENV A=$V B="${D}" C=${V:+set} $U=x', { kind: 'ENV', flags: {}, pairs: [{ key: 'A', value: '1.0' }, { key: 'B', value: '/app dir' }, { key: 'C', value: 'set' }, { key: 'nobody', value: 'x' }] }],
    ['LABEL "v"=\'$V\'', { kind: 'LABEL', flags: {}, pairs: [{ key: 'v', value: '$V' }] }],
    ['ARG X=$V Y', { kind: 'ARG', flags: {}, args: [{ name: 'X', default: '1.0' }, { name: 'Y' }] }],
    ['WORKDIR $D/sub', { kind: 'WORKDIR', flags: {}, path: '/app dir/sub' }],
    ['USER $U', { kind: 'USER', flags: {}, user: 'nobody' }],
    ['STOPSIGNAL ${S:-SIGQUIT}', { kind: 'STOPSIGNAL', flags: {}, signal: 'SIGQUIT' }],
    ['VOLUME ["$D"]', { kind: 'VOLUME', flags: {}, paths: ['/app dir'] }],
    ['EXPOSE $P 8080/udp', { kind: 'EXPOSE', flags: {}, ports: ['80', '443', '8080/udp'] }],
    ['RUN echo $V', { kind: 'RUN', flags: {}, command: { form: 'shell', command: 'echo $V' } }],
    ['CMD ["$V"]', { kind: 'CMD', flags: {}, command: { form: 'exec', argv: ['$V'] } }],
    ['ONBUILD COPY $V /', { kind: 'ONBUILD', flags: {}, trigger: 'COPY $V /' }],
  ])('%s', (line, expected) => {
    expect(expand(line)).toEqual(expected);
  });

  it('FROM with the meta environment, --platform included', () => {
    const from = parseDockerfile('FROM --platform=$P busybox:$V AS b\n').stages[0].from;
    expect(expandInstruction(from, new Map([['V', '1.36'], ['P', 'linux/amd64']]))).toMatchObject({ image: 'busybox:1.36', flags: { platform: 'linux/amd64' }, stageName: 'b' });
  });
});
