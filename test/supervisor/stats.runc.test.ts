// The whole of stats.test.ts again with tsd driving runc: stats come through
// the runtime's `events --stats`, whose document runc and tsrun share.
process.env.TSD_TEST_RUNTIME = 'runc';
await import('./stats.test.js');
delete process.env.TSD_TEST_RUNTIME;
