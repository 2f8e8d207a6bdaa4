// Storage planning: from each camera's measured bitrate and the disk, the retention the disk can really hold.
import type { StorageView } from '../http/video-contracts.js';
import type { DiskSpace } from './retention.js';

const dayMs = 86_400_000;
// Above this a camera's main stream is worth a look: 4 Mbit/s is already ~2.6 TB per 60 days.
const highBitrateKbps = 4096;

export interface PlanInput {
  disk: DiskSpace;
  floorBytes: number;
  retentionDays: number;
  pending: StorageView['pendingRetention'];
  /** Recorded bytes and seconds per camera over the last day (measured), and all footage per camera. */
  lastDay: readonly { camera: string; bytes: number; seconds: number }[];
  all: readonly { camera: string; bytes: number; first: number }[];
  cameras: readonly { id: string; name: string; hasSubStream: boolean; recordsMain: boolean }[];
  now: number;
}

export function planStorage(input: PlanInput): StorageView {
  const usedByVideoBytes = input.all.reduce((sum, c) => sum + c.bytes, 0);
  const cameras = input.cameras.map((cam) => {
    const day = input.lastDay.find((d) => d.camera === cam.id);
    const all = input.all.find((a) => a.camera === cam.id);
    const bytesPerSecond = day && day.seconds > 0 ? day.bytes / day.seconds : null;
    return {
      id: cam.id,
      name: cam.name,
      bitrateKbps: bytesPerSecond === null ? null : Math.round((bytesPerSecond * 8) / 1000),
      bytesPerDay: bytesPerSecond === null ? null : Math.round(bytesPerSecond * 86_400),
      recordedDays: all ? Math.round(((input.now - all.first) / dayMs) * 10) / 10 : 0,
      hasSubStream: cam.hasSubStream,
    };
  });
  const perDay = cameras.reduce((sum, c) => sum + (c.bytesPerDay ?? 0), 0);
  // What footage may occupy: what it occupies now plus what is free above the floor.
  const room = usedByVideoBytes + Math.max(0, input.disk.freeBytes - input.floorBytes);
  const capacityDays = perDay > 0 ? Math.floor((room / perDay) * 10) / 10 : null;
  const shortfall = capacityDays !== null && capacityDays < input.retentionDays;
  const advice: StorageView['advice'] = [];
  if (shortfall && capacityDays !== null) {
    for (const cam of cameras) {
      const config = input.cameras.find((c) => c.id === cam.id)!;
      if (config.recordsMain && cam.hasSubStream) advice.push({ code: 'use-sub-stream', camera: cam.id });
      else if ((cam.bitrateKbps ?? 0) > highBitrateKbps) advice.push({ code: 'lower-bitrate', camera: cam.id, figure: Math.floor(((cam.bitrateKbps ?? 0) * capacityDays) / input.retentionDays) });
    }
    advice.push({ code: 'bigger-disk', figure: Math.ceil(perDay * input.retentionDays - room) });
  }
  if (input.pending) advice.push({ code: 'retention-pending', figure: input.pending.days });
  return {
    disk: { totalBytes: input.disk.totalBytes, freeBytes: input.disk.freeBytes, floorBytes: input.floorBytes, usedByVideoBytes },
    retentionDays: input.retentionDays,
    pendingRetention: input.pending,
    cameras,
    capacityDays,
    shortfall,
    advice,
  };
}
