import { describe, expect, it } from 'vitest';
import { parseDockerfile, parseGoDuration, parseOnbuildTrigger, parseWords } from '../../src/image/build/dockerfile.js';
import type { Instruction } from '../../src/image/build/instructions.js';
import { RuntimeError } from '../../src/common/errors.js';

/** The first stage's instructions without loc/original, for compact tables. */
function body(text: string): Array<Record<string, unknown>> {
  return parseDockerfile(text).stages[0].instructions.map(strip);
}

function strip(i: Instruction): Record<string, unknown> {
  const { loc: _loc, original: _orig, ...rest } = i;
  return rest;
}

describe('parseDockerfile: instructions', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['shell RUN', 'RUN echo hi  there', { kind: 'RUN', flags: {}, command: { form: 'shell', command: 'echo hi  there' } }],
    ['exec RUN', 'run ["echo", "hi"]', { kind: 'RUN', flags: {}, command: { form: 'exec', argv: ['echo', 'hi'] } }],
    ['invalid JSON falls back to shell', 'CMD ["echo", hi]', { kind: 'CMD', flags: {}, command: { form: 'shell', command: '["echo", hi]' } }],
    ['unclosed JSON falls back to shell', 'CMD ["echo"', { kind: 'CMD', flags: {}, command: { form: 'shell', command: '["echo"' } }],
    ['text after the JSON array ignored', 'ENTRYPOINT ["a"] b', { kind: 'ENTRYPOINT', flags: {}, command: { form: 'exec', argv: ['a'] } }],
    ['empty exec CMD', 'CMD []', { kind: 'CMD', flags: {}, command: { form: 'exec', argv: [] } }],
    ['SHELL', 'SHELL ["/bin/bash", "-c"]', { kind: 'SHELL', flags: {}, argv: ['/bin/bash', '-c'] }],
    ['COPY flags', 'COPY --from=build --chown=1:2 --chmod=644 a b /dst/', { kind: 'COPY', flags: { from: 'build', chown: '1:2', chmod: '644' }, sources: ['a', 'b'], dest: '/dst/' }],
    ['COPY quoted flag', 'COPY --chown="a b" x y', { kind: 'COPY', flags: { chown: 'a b' }, sources: ['x'], dest: 'y' }],
    ['COPY JSON with spaces', 'COPY ["a file", "/d ir/"]', { kind: 'COPY', flags: {}, sources: ['a file'], dest: '/d ir/' }],
    ['COPY words split at blanks, quotes kept', 'COPY "a b" c', { kind: 'COPY', flags: {}, sources: ['"a', 'b"'], dest: 'c' }],
    ['ADD chown', 'ADD --chown=app x.tar /', { kind: 'ADD', flags: { chown: 'app' }, sources: ['x.tar'], dest: '/' }],
    ['ENV pairs keep quotes for substitution', 'ENV A=1 B="two words" C=a\\ b', { kind: 'ENV', flags: {}, pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"two words"' }, { key: 'C', value: 'a\\ b' }] }],
    ['legacy ENV', 'ENV PATH /usr/bin  /bin', { kind: 'ENV', flags: {}, pairs: [{ key: 'PATH', value: '/usr/bin  /bin' }] }],
    ['ENV empty value', 'ENV A=', { kind: 'ENV', flags: {}, pairs: [{ key: 'A', value: '' }] }],
    ['LABEL', 'LABEL "com.x"="a b" v=1', { kind: 'LABEL', flags: {}, pairs: [{ key: '"com.x"', value: '"a b"' }, { key: 'v', value: '1' }] }],
    ['ARG several', 'ARG A B=2 C=', { kind: 'ARG', flags: {}, args: [{ name: 'A' }, { name: 'B', default: '2' }, { name: 'C', default: '' }] }],
    ['EXPOSE', 'EXPOSE 80 443/tcp', { kind: 'EXPOSE', flags: {}, ports: ['80', '443/tcp'] }],
    ['VOLUME words', 'VOLUME /a /b', { kind: 'VOLUME', flags: {}, paths: ['/a', '/b'] }],
    ['VOLUME JSON', 'VOLUME ["/a b"]', { kind: 'VOLUME', flags: {}, paths: ['/a b'] }],
    ['WORKDIR keeps spaces', 'WORKDIR /a b', { kind: 'WORKDIR', flags: {}, path: '/a b' }],
    ['USER', 'USER 1000:1000', { kind: 'USER', flags: {}, user: '1000:1000' }],
    ['STOPSIGNAL', 'STOPSIGNAL SIGTERM', { kind: 'STOPSIGNAL', flags: {}, signal: 'SIGTERM' }],
    ['MAINTAINER', 'MAINTAINER me', { kind: 'MAINTAINER', flags: {}, name: 'me' }],
    ['HEALTHCHECK NONE', 'HEALTHCHECK NONE', { kind: 'HEALTHCHECK', flags: {}, check: { none: true } }],
    ['HEALTHCHECK NONE ignores flags as Docker', 'HEALTHCHECK --bogus=1 none', { kind: 'HEALTHCHECK', flags: {}, check: { none: true } }],
    ['HEALTHCHECK shell CMD', 'HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1s --retries=3 CMD wget -q x || exit 1', {
      kind: 'HEALTHCHECK', flags: { interval: '5s', timeout: '1m30s', 'start-period': '1s', retries: '3' },
      check: { none: false, command: { form: 'shell', command: 'wget -q x || exit 1' }, interval: '5s', timeout: '1m30s', startPeriod: '1s', retries: 3 },
    }],
    ['HEALTHCHECK exec CMD', 'HEALTHCHECK cmd ["true"]', { kind: 'HEALTHCHECK', flags: {}, check: { none: false, command: { form: 'exec', argv: ['true'] } } }],
    ['ONBUILD', 'ONBUILD  RUN echo $X', { kind: 'ONBUILD', flags: {}, trigger: 'RUN echo $X' }],
    ['RUN -- ends flags', 'RUN -- --x', { kind: 'RUN', flags: {}, command: { form: 'shell', command: '--x' } }],
  ];
  it.each(cases)('%s', (_name, line, expected) => {
    expect(body(`FROM busybox\n${line}\n`)).toEqual([expected]);
  });
});

describe('parseDockerfile: file structure', () => {
  it('stages, names lowercased, --platform, meta ARGs, locations and originals', () => {
    const df = parseDockerfile('ARG V=1\nFROM --platform=linux/amd64 busybox:$V AS Build\nRUN a\n\n  from build as final\nCOPY --from=0 x y\n');
    expect(df.metaArgs.map(strip)).toEqual([{ kind: 'ARG', flags: {}, args: [{ name: 'V', default: '1' }] }]);
    expect(df.stages.map((s) => [s.index, s.name, s.from.image, s.from.flags, s.instructions.length])).toEqual([
      [0, 'build', 'busybox:$V', { platform: 'linux/amd64' }, 1],
      [1, 'final', 'build', {}, 1],
    ]);
    expect(df.stages[1].from.loc).toEqual({ line: 5, column: 3 });
    expect(df.stages[0].from.original).toBe('FROM --platform=linux/amd64 busybox:$V AS Build');
  });

  it('continuations: escape char, trailing blanks, comment and empty lines inside, original joined', () => {
    const df = parseDockerfile('FROM a\nRUN echo 1 \\  \n# inside\n    && echo 2 \\\n\n  && echo 3\nRUN x\n');
    const [run, next] = df.stages[0].instructions;
    expect(run).toMatchObject({ kind: 'RUN', loc: { line: 2, column: 1 }, command: { form: 'shell', command: 'echo 1     && echo 2   && echo 3' } });
    expect(next.loc.line).toBe(7);
    expect(df.warnings[0]).toBe('[WARNING]: Empty continuation line found in:\n    RUN echo 1     && echo 2   && echo 3');
    expect(df.warnings[1]).toMatch(/will become errors/);
  });

  it('the escape directive switches to backtick; a backslash is then literal', () => {
    const df = parseDockerfile('# escape=`\nFROM a\nRUN dir c:\\ `\n  /w\nENV P=c:\\a`\\b\n');
    expect(df.directives).toEqual({ escape: '`' });
    expect(df.stages[0].instructions.map(strip)).toEqual([
      { kind: 'RUN', flags: {}, command: { form: 'shell', command: 'dir c:\\   /w' } },
      { kind: 'ENV', flags: {}, pairs: [{ key: 'P', value: 'c:\\a`\\b' }] },
    ]);
  });

  it.each([
    ['# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n', { syntax: 'docker/dockerfile:1', escape: '`' }],
    ['#Escape = \\\nFROM a\n', { escape: '\\' }],
    ['# comment\n# escape=`\nFROM a\n', {}],
    ['\n# escape=`\nFROM a\n', {}],
    ['FROM a\n# escape=`\n', {}],
    ['# unknown=1\n# escape=`\nFROM a\n', {}],
  ])('directives only at the top: %j', (text, expected) => {
    expect(parseDockerfile(text).directives).toEqual(expected);
  });

  it('CRLF line ends and a BOM', () => {
    const df = parseDockerfile('\uFEFFFROM a\r\nRUN b \\\r\n c\r\n');
    expect(df.stages[0].instructions.map(strip)).toEqual([{ kind: 'RUN', flags: {}, command: { form: 'shell', command: 'b  c' } }]);
  });

  it('parses an ONBUILD trigger for a child build', () => {
    expect(strip(parseOnbuildTrigger('COPY --chown=1 a b', { line: 1, column: 1 }))).toEqual({ kind: 'COPY', flags: { chown: '1' }, sources: ['a'], dest: 'b' });
  });
});

describe('parseDockerfile: refusals in Docker words, naming the line', () => {
  const cases: Array<[string, string]> = [
    ['', 'the Dockerfile (Dockerfile) cannot be empty'],
    ['# only a comment\n', 'file with no instructions'],
    ['RUN x\n', 'Dockerfile parse error line 1: no build stage in current context'],
    ['ARG A\n', 'No image was generated. Is your Dockerfile empty?'],
    ['FROM a\nFOOBAR x\n', 'Dockerfile parse error line 2: unknown instruction: FOOBAR'],
    ['FROM\n', 'Dockerfile parse error line 1: FROM requires either one or three arguments'],
    ['FROM a b\n', 'FROM requires either one or three arguments'],
    ['FROM a AS 1x\n', 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['FROM a AS x\nFROM b AS X\n', 'Dockerfile parse error line 2: x stage name already used'],
    ['FROM --chown=1 a\n', 'Unknown flag: chown'],
    ['FROM a\nENV =x\n', 'Dockerfile parse error line 2: ENV names can not be blank'],
    ['FROM a\nENV A\n', 'ENV must have two arguments'],
    ['FROM a\nENV A=1 B\n', 'Syntax error - can\'t find = in "B". Must be of the form: name=value'],
    ['FROM a\nENV\n', 'ENV requires at least one argument'],
    ['FROM a\nLABEL\n', 'LABEL requires at least one argument'],
    ['FROM a\nARG =1\n', 'ARG names can not be blank'],
    ['FROM a\nARG\n', 'ARG requires at least one argument'],
    ['FROM a\nCOPY x\n', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM a\nADD ["x"]\n', 'ADD requires at least two arguments'],
    ['FROM a\nCOPY --from x y\n', 'Missing a value on flag: from'],
    ['FROM a\nCOPY --from=a --from=b x y\n', 'Duplicate flag specified: from'],
    ['FROM a\nADD --from=a x y\n', 'Unknown flag: from'],
    ['FROM a\n\nRUN --mount=type=cache,target=/x make\n', 'Dockerfile parse error line 3: RUN --mount is not supported: it requires BuildKit'],
    ['FROM a\nRUN --network=none x\n', 'RUN --network is not supported'],
    ['FROM a\nRUN ["a", 1]\n', 'when using JSON array syntax, arrays must be comprised of strings only'],
    ['FROM a\nRUN <<EOF\necho\nEOF\n', 'Dockerfile parse error line 2: RUN: heredocs (<<EOF) are not supported'],
    ['FROM a\nCOPY <<-"EOT" /x\n', 'COPY: heredocs'],
    ['FROM a\nSHELL sh -c\n', 'SHELL requires the arguments to be in JSON form'],
    ['FROM a\nSHELL []\n', 'SHELL requires at least one argument'],
    ['FROM a\nWORKDIR\n', 'WORKDIR requires exactly one argument'],
    ['FROM a\nUSER\n', 'USER requires exactly one argument'],
    ['FROM a\nSTOPSIGNAL\n', 'STOPSIGNAL requires exactly one argument'],
    ['FROM a\nMAINTAINER\n', 'MAINTAINER requires exactly one argument'],
    ['FROM a\nEXPOSE\n', 'EXPOSE requires at least one argument'],
    ['FROM a\nVOLUME\n', 'VOLUME requires at least one argument'],
    ['FROM a\nVOLUME ["/a", " "]\n', 'VOLUME specified can not be an empty string'],
    ['FROM a\nHEALTHCHECK\n', 'HEALTHCHECK requires at least one argument'],
    ['FROM a\nHEALTHCHECK NONE x\n', 'HEALTHCHECK NONE takes no arguments'],
    ['FROM a\nHEALTHCHECK CMD\n', 'Missing command after HEALTHCHECK CMD'],
    ['FROM a\nHEALTHCHECK RUN x\n', 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
    ['FROM a\nHEALTHCHECK --interval=5 CMD x\n', 'time: missing unit in duration "5"'],
    ['FROM a\nHEALTHCHECK --interval=1ns CMD x\n', 'Interval "interval" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK --retries=0 CMD x\n', '--retries must be at least 1 (not 0)'],
    ['FROM a\nHEALTHCHECK --retries=x CMD x\n', 'invalid syntax'],
    ['FROM a\nHEALTHCHECK --user=x CMD x\n', 'Unknown flag: user'],
    ['FROM a\nONBUILD ONBUILD RUN x\n', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['FROM a\nONBUILD FROM b\n', 'FROM isn\'t allowed as an ONBUILD trigger'],
    ['FROM a\nONBUILD maintainer b\n', 'MAINTAINER isn\'t allowed as an ONBUILD trigger'],
    ['FROM a\nONBUILD\n', 'ONBUILD requires at least one argument'],
    ['FROM a\nONBUILD ENV x\n', 'ENV must have two arguments'],
    ['FROM a\nENV --x=1 A=1\n', 'Unknown flag: x'],
    ['# escape=x\nFROM a\n', 'Dockerfile parse error line 1: invalid escape token \'x\' does not match ` or \\'],
    ['# escape=`\n# escape=\\\nFROM a\n', 'Dockerfile parse error line 2: only one escape parser directive can be used'],
  ];
  it.each(cases)('%j', (text, message) => {
    let caught: unknown;
    try {
      parseDockerfile(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RuntimeError);
    expect((caught as RuntimeError).kind).toBe('invalid-argument');
    expect((caught as RuntimeError).message).toContain(message);
  });
});

describe('parseWords (moby parseWords: quotes and escapes kept)', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['a="b c" d', ['a="b c"', 'd']],
    ["a='b \\' c'", ["a='b \\'", 'c\'']],
    ['a\\ b c', ['a\\ b', 'c']],
    ['""', ['""']],
    ['a\\', ['a']],
    ['"a\\"b" c', ['"a\\"b"', 'c']],
  ])('%j', (input, words) => {
    expect(parseWords(input, '\\')).toEqual(words);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0', 0], ['5s', 5e9], ['1m30s', 90e9], ['1.5h', 5400e9], ['300ms', 3e8], ['2us', 2000], ['-1s', -1e9], ['.5s', 5e8],
  ])('%s', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });
  it.each(['', '5', 's', '1x', '1..2s', '-'])('refuses %j', (s) => {
    expect(() => parseGoDuration(s)).toThrow(/time: /);
  });
});
