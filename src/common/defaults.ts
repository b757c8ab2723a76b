// Defaults that more than one command line shares.

/** tsrun's --root, as runc's /run/runc: where container state lives unless told otherwise. */
export const DEFAULT_RUNTIME_ROOT = '/run/tsrun';
