// The flags bundle and run share: what the container of an image looks like.
import { flagBool, flagList, flagString, UsageError, type FlagSpec, type ParsedArgs } from '../../common/argv.js';
import type { BundleRequest } from '../../engine/engine.js';

export const CONTAINER_FLAGS: FlagSpec[] = [
  { name: 'name', kind: 'string', help: 'container name (default: random)' },
  { name: 'env', kind: 'list', alias: ['e'], help: 'KEY=VALUE, repeatable' },
  { name: 'entrypoint', kind: 'string', help: "replace the image's entrypoint (a JSON array or one word)" },
  { name: 'user', kind: 'string', alias: ['u'], help: 'user[:group], names resolved in the image' },
  { name: 'workdir', kind: 'string', alias: ['w'], help: 'working directory' },
  { name: 'tty', kind: 'bool', alias: ['t'], help: 'give the process a terminal' },
  { name: 'net', kind: 'string', help: 'none (own network namespace, default) or host' },
  { name: 'read-only', kind: 'bool', help: 'mount the rootfs read-only' },
];

export function containerRequest(p: ParsedArgs, command: string[]): BundleRequest {
  const net = flagString(p, 'net') ?? 'none';
  if (net !== 'none' && net !== 'host') throw new UsageError(`invalid --net ${JSON.stringify(net)}: use none or host`);
  for (const e of flagList(p, 'env')) if (!e.includes('=') || e.startsWith('=')) throw new UsageError(`invalid --env ${JSON.stringify(e)}: use KEY=VALUE`);
  const ep = flagString(p, 'entrypoint');
  let entrypoint: string[] | undefined;
  if (ep !== undefined) {
    try {
      entrypoint = ep.startsWith('[') ? (JSON.parse(ep) as string[]) : [ep];
    } catch {
      throw new UsageError(`invalid --entrypoint ${JSON.stringify(ep)}: a JSON array of strings or one word`);
    }
  }
  return {
    id: flagString(p, 'name'),
    args: command.length ? command : undefined,
    entrypoint,
    env: flagList(p, 'env'),
    user: flagString(p, 'user'),
    cwd: flagString(p, 'workdir'),
    terminal: flagBool(p, 'tty'),
    hostNetwork: net === 'host',
    readonlyRootfs: flagBool(p, 'read-only'),
  };
}
