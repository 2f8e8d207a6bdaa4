// The sync worker thread: its own connection to the store, the transport to HQ, and the pump between them (started by sync.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../gateway/core/clock.js';
import { openStore } from '../gateway/store/db.js';
import { createPump, type SyncWorkerInit, type SyncWorkerMessage } from './sync.js';

if (!parentPort) throw new Error('sync/worker.js runs as a worker thread started by the gateway');
const port = parentPort;
const init = workerData as SyncWorkerInit;
const post = (m: SyncWorkerMessage): void => port.postMessage(m);

// Its own connection (WAL lets it read while the gateway writes), so a long read here never stalls a gate decision.
// The sync role: commits without fsync (a lost "sent" mark only means a resend HQ ignores) and the checkpoints.
const store = openStore({ dataDir: init.dataDir, now: () => systemClock.now(), role: 'sync' });
const pump = createPump(init, {
  store,
  clock: systemClock,
  log: (level, msg, fields) => post(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg }),
  onStatus: (status) => post({ type: 'status', status }),
  onNotice: (notice) => post({ type: 'notice', notice }),
});

port.on('message', (m: { type?: string }) => {
  if (m?.type !== 'stop') return;
  void pump.stop().finally(() => {
    // Not store.close(): folding the WAL back is the gateway's connection's job, and would wait on its readers.
    store.db.close();
    process.exit(0);
  });
});

void pump.start();
