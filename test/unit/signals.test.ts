import { describe, expect, it } from 'vitest';
import { parseSignal } from '../../src/runtime/signals.js';

describe('signal names and numbers', () => {
  it('accepts numbers, names with and without SIG, any case, and real-time offsets', () => {
    expect(parseSignal('15')).toBe(15);
    expect(parseSignal('TERM')).toBe(15);
    expect(parseSignal('SIGKILL')).toBe(9);
    expect(parseSignal('sigusr1')).toBe(10);
    expect(parseSignal('RTMIN+2')).toBe(36);
  });
  it('rejects unknown ones', () => {
    expect(() => parseSignal('SIGNOPE')).toThrow(/unknown signal "SIGNOPE"/);
    expect(() => parseSignal('0')).toThrow();
    expect(() => parseSignal('65')).toThrow();
  });
});
