// Hooks that run in the runtime namespace (prestart, createRuntime, poststart,
// poststop), spawned by tsrun with the state document on stdin. createContainer
// and startContainer run inside the container's namespaces, performed by the
// init from plan steps (src/linux/launchPlan.ts).
import { spawnSync } from 'node:child_process';
import type { Hook, Hooks, State } from '../spec/types.js';
import { RuntimeError } from '../common/errors.js';

export type HookKind = keyof Hooks;

/** The hook's env; undefined without one, so that it inherits tsrun's (spawn's default, as runc). */
function hookEnv(hook: Hook): NodeJS.ProcessEnv | undefined {
  if (!hook.env) return undefined;
  const env: NodeJS.ProcessEnv = {};
  for (const kv of hook.env) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

function describeFailure(r: ReturnType<typeof spawnSync>, hook: Hook): string {
  const stderr = String(r.stderr ?? '').trim();
  let what: string;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') what = `timed out after ${hook.timeout}s`;
  else if (r.error) what = (r.error as Error).message;
  else if (r.signal) what = `killed by ${r.signal}`;
  else what = `exit status ${r.status}`;
  return stderr ? `${what}: ${stderr}` : what;
}

/**
 * Runs the hooks of one kind in order. With `fatal`, the first failure throws
 * (naming the hook's path, index and exit status); otherwise every hook runs
 * and the failures are returned as warnings.
 */
export function runHooks(kind: HookKind, hooks: Hook[] | undefined, state: State, fatal: boolean): string[] {
  const warnings: string[] = [];
  (hooks ?? []).forEach((hook, i) => {
    const r = spawnSync(hook.path, (hook.args ?? []).slice(1), {
      argv0: hook.args?.[0] ?? hook.path,
      env: hookEnv(hook),
      input: JSON.stringify(state),
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 1 << 20,
    });
    if (!r.error && r.status === 0) return;
    const err = new RuntimeError({
      step: `run ${kind} hook`,
      path: hook.path,
      pointer: `/hooks/${kind}/${i}`,
      errno: (r.error as NodeJS.ErrnoException | undefined)?.code,
      detail: describeFailure(r, hook),
    });
    if (fatal) throw err;
    warnings.push(err.message);
  });
  return warnings;
}
