// volumes.test.ts again with tsd driving runc: the mounts come from the OCI config the
// engine wrote (volumes, copy-up, binds, tmpfs), whichever runtime reads it.
process.env.TSD_TEST_RUNTIME = 'runc';
await import('./volumes.test.js');
delete process.env.TSD_TEST_RUNTIME;
