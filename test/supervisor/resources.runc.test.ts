// resources.test.ts again with tsd driving runc: the cgroup files and the process
// settings come from the OCI config the engine wrote, whichever runtime reads it.
process.env.TSD_TEST_RUNTIME = 'runc';
await import('./resources.test.js');
delete process.env.TSD_TEST_RUNTIME;
