import { describe, expect, it } from 'vitest';
import { decodeMessage, decodePlan, encodeMessage, encodePlan } from '../../src/linux/planCodec.js';

describe('plan wire format', () => {
  it('round-trips steps, including empty, unicode and NUL-free binary-ish strings', () => {
    const steps = [
      { op: 'mount', pointer: '/mounts/0', args: ['', '/proc', 'proc', '14', '', '0'] },
      { op: 'hostname', pointer: '/hostname', args: ['hôte'] },
    ];
    expect(decodePlan(encodePlan(steps))).toEqual(steps);
  });
  it('frames every argument with a length and a NUL, as addon/init/plan.h reads it', () => {
    const buf = encodeMessage(['GO']);
    expect([...buf]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 0x47, 0x4f, 0]);
    expect(decodeMessage(buf)).toEqual(['GO']);
  });
  it('starts a plan with its magic and count', () => {
    const buf = encodePlan([]);
    expect(buf.toString('latin1', 0, 4)).toBe('TSP1');
    expect(buf.readUInt32LE(4)).toBe(0);
  });
});
