import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/common/argv.js';

const specs = [
  { name: 'bundle', kind: 'string' as const, alias: ['b'] },
  { name: 'detach', kind: 'bool' as const, alias: ['d'] },
  { name: 'env', kind: 'list' as const, alias: ['e'] },
];

describe('parseArgs (runc-compatible flags)', () => {
  it('accepts --flag value, --flag=value, single-dash long flags and short aliases', () => {
    expect(parseArgs(['--bundle', '/b', 'id'], specs).flags.get('bundle')).toBe('/b');
    expect(parseArgs(['--bundle=/b', 'id'], specs).flags.get('bundle')).toBe('/b');
    expect(parseArgs(['-bundle', '/b', 'id'], specs).flags.get('bundle')).toBe('/b');
    expect(parseArgs(['-b', '/b', 'id'], specs).flags.get('bundle')).toBe('/b');
    expect(parseArgs(['-d', 'id'], specs).flags.get('detach')).toBe(true);
    expect(parseArgs(['--detach=false', 'id'], specs).flags.get('detach')).toBe(false);
  });
  it('collects repeated list flags and positionals', () => {
    const p = parseArgs(['-e', 'A=1', 'id', '--env', 'B=2'], specs);
    expect(p.flags.get('env')).toEqual(['A=1', 'B=2']);
    expect(p.positionals).toEqual(['id']);
  });
  it('stops at -- and after N positionals, so a command keeps its own flags', () => {
    expect(parseArgs(['id', '--', '-x'], specs).positionals).toEqual(['id', '-x']);
    expect(parseArgs(['id', 'ls', '-l', '--bundle', 'x'], specs, 1).positionals).toEqual(['id', 'ls', '-l', '--bundle', 'x']);
  });
  it('rejects unknown flags, missing values and bad booleans', () => {
    expect(() => parseArgs(['--nope'], specs)).toThrow(UsageError);
    expect(() => parseArgs(['--bundle'], specs)).toThrow(/needs an argument/);
    expect(() => parseArgs(['--detach=maybe'], specs)).toThrow(/invalid boolean/);
  });
});
