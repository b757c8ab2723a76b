// The whole of docker.test.ts again with tsd driving runc instead of bin/tsrun:
// the engine and the shim are runtime-agnostic (any runc-compatible binary).
process.env.TSD_TEST_RUNTIME = 'runc';
await import('./docker.test.js');
delete process.env.TSD_TEST_RUNTIME;
