// Preloaded (`node --import`) by bench/send-alloc.mjs into `wacx send`: samples what the main thread allocates,
// including objects already collected, and writes the profile to ALLOC_PROFILE at exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error) writeFileSync(process.env.ALLOC_PROFILE, JSON.stringify(result.profile));
  });
});
