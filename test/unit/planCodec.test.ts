import { describe, expect, it } from 'vitest';
import { planOp } from '../../src/linux/generated/protocol.js';
import { decodeMessage, decodePlan, encodeMessage, encodePlan, type PlanStep } from '../../src/linux/planCodec.js';

/** A plan of raw steps, bypassing the builders, to see what decodePlan refuses. */
const rawPlan = (...steps: Array<{ op: string; pointer: string; args: string[] }>) => encodePlan(steps as PlanStep[]);

describe('plan wire format', () => {
  it('round-trips steps, including empty, unicode and NUL-free binary-ish strings', () => {
    const steps = [
      planOp.mount('/mounts/0', '', '/proc', 'proc', 14, '', 0, 0, '0', '1', '0', -1, '1'),
      planOp.hostname('/hostname', 'hôte'),
      planOp.user('/process/user', 0, 0, 10, 11n),
    ];
    expect(decodePlan(encodePlan(steps))).toEqual(steps);
    expect(steps[2].args).toEqual(['0', '0', '10', '11']);
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
  it('refuses, as the helper does, an unknown op or a record of the wrong length', () => {
    expect(() => decodePlan(rawPlan({ op: 'nope', pointer: '', args: [] }))).toThrow(/unknown plan step "nope"/);
    expect(() => decodePlan(rawPlan({ op: 'mount', pointer: '', args: ['', '/proc', 'proc'] }))).toThrow(/mount has 3 arguments, declared 12/);
    expect(() => decodePlan(rawPlan({ op: 'user', pointer: '', args: ['0'] }))).toThrow(/user has 1 arguments, declared at least 2/);
    expect(decodePlan(rawPlan({ op: 'user', pointer: '', args: ['0', '0', '1', '2'] }))[0].args).toHaveLength(4);
  });
});
