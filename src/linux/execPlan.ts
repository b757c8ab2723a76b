// The plan for `exec`: join every namespace of the running container's init,
// then become the requested process exactly as the init did.
import type { Process, Spec } from '../spec/types.js';
import { NAMESPACE_FLAGS, NAMESPACE_PROC_NAMES } from './constants.js';
import { planOp } from './generated/protocol.js';
import { JOIN_ORDER, processSteps, type ProcessContext } from './launchPlan.js';
import type { PlanStep } from './planCodec.js';

export function buildExecPlan(spec: Spec, initPid: number, proc: Process, ctx: ProcessContext): PlanStep[] {
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  const steps: PlanStep[] = [];
  for (const type of JOIN_ORDER) {
    if (!types.has(type as never)) continue;
    const i = (spec.linux?.namespaces ?? []).findIndex((n) => n.type === type);
    steps.push(planOp.setns(`/linux/namespaces/${i}`, `/proc/${initPid}/ns/${NAMESPACE_PROC_NAMES[type]}`, NAMESPACE_FLAGS[type]));
  }
  // No new namespace: the process joins the init's (CLONE_PARENT makes it our child).
  steps.push(planOp.clone('', 0));
  steps.push(planOp.waitGo(''));
  steps.push(...processSteps(proc, spec, ctx, 'exec'));
  return steps;
}
