import { RuntimeError } from '../common/errors.js';

// runc's rule: word characters, '+', '-', '.'; plus: not "." or "..", bounded length.
const ID_PATTERN = /^[\w+\-.]+$/;

export function validateContainerId(id: string | undefined): string {
  if (id === undefined || id === '')
    throw new RuntimeError({ step: 'read the container id', detail: 'a container id is required' });
  if (!ID_PATTERN.test(id) || id === '.' || id === '..' || id.length > 1024)
    throw new RuntimeError({ step: 'read the container id', detail: `invalid container id ${JSON.stringify(id)}: only letters, digits, "_", "+", "-" and "." are allowed` });
  return id;
}
