// npm run bench: runs every benchmark and prints their figures as one JSON object on the last line.
import * as ingest from './ingest.js';
import * as startup from './startup.js';
import * as decision from './decision.js';
import * as osdp from './osdp.js';
import * as osdpRelay from './osdp-relay.js';
import * as patrol from './patrol.js';
import * as wand from './wand.js';
import * as visitorLookup from './visitor-lookup.js';
import * as video from './video.js';
import * as live from './live.js';
import * as sync from './sync.js';

const benches: { name: string; run: () => Promise<Record<string, number>> }[] = [
  { name: 'ingest', run: ingest.run },
  { name: 'startup', run: startup.run },
  { name: 'decision', run: () => decision.run() },
  { name: 'decision while 8 cameras record', run: () => decision.run({ cameras: 8 }) },
  { name: 'decision while sync drains a backlog', run: () => decision.run({ backlog: 300_000 }) },
  { name: 'visitor lookup', run: visitorLookup.run },
  { name: 'osdp', run: osdp.run },
  { name: 'osdp to relay', run: osdpRelay.run },
  { name: 'patrol', run: patrol.run },
  { name: 'patrol wand', run: wand.run },
  { name: 'video recording and retention', run: video.run },
  { name: 'live view', run: live.run },
  { name: 'sync drain', run: () => sync.run() },
];

const figures: Record<string, number> = {};
for (const bench of benches) {
  console.error(`bench: ${bench.name}...`);
  Object.assign(figures, await bench.run());
}
console.log(JSON.stringify(figures));
