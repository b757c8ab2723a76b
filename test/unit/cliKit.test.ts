import { describe, expect, it } from 'vitest';
import { describeError, exitCodeOf, findVerb, helpExitCode, usageText, verbEntry, type CliDefinition } from '../../src/common/cliKit.js';
import { UsageError, type FlagSpec } from '../../src/common/argv.js';
import { RuntimeError } from '../../src/common/errors.js';
import { ConfigError } from '../../src/spec/validateConfig.js';

const FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', alias: ['r'], help: 'state root' },
  { name: 'debug', kind: 'bool', help: 'more lines' },
];
const load = async () => ({ default: () => 0 });
const DEMO: CliDefinition<() => number> = {
  name: 'demo',
  title: 'demo: a test program',
  verbs: { start: { summary: 'start it', load }, delete: { summary: 'delete it', load } },
  aliases: { rm: 'delete' },
  globalFlags: FLAGS,
  verbColumn: 8,
  listHelp: true,
};

describe('cliKit', () => {
  it('writes the usage text from the verb table and the global flags', () => {
    expect(usageText(DEMO)).toBe([
      'demo: a test program', '', 'usage: demo [global options] COMMAND [options] [arguments]', '', 'commands:',
      '  start   start it', '  delete  delete it', '  help    show this help', '', 'global options:',
      '  --root           state root', '  --debug          more lines', '',
    ].join('\n'));
    expect(usageText({ ...DEMO, listHelp: false })).not.toContain('show this help');
  });

  it('finds the verb after global flags, a string flag (or its alias) taking the next word', () => {
    expect(findVerb(['--root', '/x', 'start', 'id'], FLAGS)).toBe(2);
    expect(findVerb(['-r', '/x', '--debug', 'start'], FLAGS)).toBe(3);
    expect(findVerb(['--root=/x', 'start'], FLAGS)).toBe(1);
    expect(findVerb(['--debug'], FLAGS)).toBe(1);
  });

  it('prints usage for no verb (exit 1), help or --help (exit 0)', () => {
    expect(helpExitCode(undefined, false)).toBe(1);
    expect(helpExitCode(undefined, true)).toBe(0);
    expect(helpExitCode('help', false)).toBe(0);
    expect(helpExitCode('start', true)).toBe(0);
    expect(helpExitCode('start', false)).toBeUndefined();
  });

  it('resolves aliases and refuses an unknown verb as a usage error', () => {
    expect(verbEntry(DEMO, 'rm').verb).toBe('delete');
    expect(() => verbEntry(DEMO, 'nope')).toThrow(new UsageError('unknown command "nope"; see \'demo help\''));
  });

  it('classifies errors by kind, prefixing the verb unless the error names its step', () => {
    expect(describeError('start', new UsageError('bad flag'))).toEqual({ class: 'usage', line: 'start: bad flag' });
    expect(describeError('start', new RuntimeError({ step: 'start c', kind: 'invalid-state', detail: 'stopped' }))).toEqual({ class: 'invalid-state', line: 'start c: stopped' });
    expect(describeError(undefined, new ConfigError('config.json', [{ field: '.process', message: 'missing' }])).class).toBe('invalid-argument');
    const internal = describeError('start', new TypeError('x is undefined'));
    expect(internal.class).toBe('internal');
    expect(internal.line).toMatch(/^start: internal error: TypeError: x is undefined/);
  });

  it('maps a class to the program\'s exit code, 1 for what its table does not list', () => {
    const usage = describeError(undefined, new UsageError('x'));
    expect(exitCodeOf(usage, { usage: 2 })).toBe(2);
    expect(exitCodeOf(usage, {})).toBe(1);
    expect(exitCodeOf(describeError(undefined, new Error('x')), { usage: 2 })).toBe(1);
  });
});
