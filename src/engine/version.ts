// The version and commit this build was made from (written by scripts/generate.mjs),
// for clients' --version and, later, the daemon's /version.
export interface BuildInfo {
  version: string;
  commit: string;
}

export async function buildInfo(): Promise<BuildInfo> {
  const { version, commit } = await import('../spec/generated/buildInfo.js');
  return { version, commit };
}
