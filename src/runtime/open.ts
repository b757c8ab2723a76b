// Shared first step of every verb on an existing container.
import { validateContainerId } from './containerId.js';
import { RuntimeError } from '../common/errors.js';
import { StateStore, type ContainerRecord } from './stateStore.js';

export function openContainer(root: string, id: string): { store: StateStore; record: ContainerRecord } {
  validateContainerId(id);
  const store = new StateStore(root);
  if (!store.exists(id))
    throw new RuntimeError({ step: `open container ${id}`, errno: 'ENOENT', detail: `container ${JSON.stringify(id)} does not exist` });
  return { store, record: store.read(id) };
}
