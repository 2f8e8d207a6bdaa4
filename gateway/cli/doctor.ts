// guardpost doctor: checks the machine a gate house runs on (config, data disk, ffmpeg, serial ports, clock).
import { spawnSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { formatProblems, loadConfigFile, ConfigError } from '../../config/load.js';
import { listSerialPorts } from '../../drivers/serial/ports.js';
import type { GuardpostConfig } from '../../config/schema.js';
import { databaseFileName, prepareDataDir } from '../store/db.js';
import { VideoRepo } from '../store/video.js';
import { ffprobeFor } from '../video/ffprobe.js';
import { planStorage } from '../video/planning.js';
import { footageSpace } from '../video/retention.js';

type Level = 'ok' | 'warn' | 'FAIL';

interface Finding {
  level: Level;
  what: string;
  detail: string;
}

// Below this, retention starts deleting footage early; an operator should know long before.
const minFreeBytes = 20 * 1024 ** 3;

export async function runDoctor(configPath: string): Promise<number> {
  const findings: Finding[] = [];
  const add = (level: Level, what: string, detail: string) => findings.push({ level, what, detail });

  let dataDir: string | null = null;
  let config: GuardpostConfig | null = null;
  try {
    config = loadConfigFile(configPath, process.env);
    dataDir = resolve(config.data_dir);
    add('ok', 'config', `${configPath} is valid (${Object.keys(config.devices).length} devices, ${config.people.length} people)`);
  } catch (err) {
    const lines = err instanceof ConfigError ? formatProblems(err.problems) : [(err as Error).message];
    add('FAIL', 'config', lines.join('; '));
  }

  if (dataDir) {
    try {
      prepareDataDir(dataDir);
      const fs = statfsSync(dataDir);
      const free = fs.bavail * fs.bsize;
      const total = fs.blocks * fs.bsize;
      const detail = `${dataDir}: ${gib(free)} free of ${gib(total)}`;
      add(free < minFreeBytes ? 'warn' : 'ok', 'data disk', free < minFreeBytes ? `${detail} (less than ${gib(minFreeBytes)})` : detail);
    } catch (err) {
      add('FAIL', 'data disk', (err as Error).message);
    }
  }

  const ffmpeg = config?.video.ffmpeg ?? 'ffmpeg';
  for (const tool of [ffmpeg, ffprobeFor(ffmpeg)]) {
    const run = spawnSync(tool, ['-version'], { encoding: 'utf8', timeout: 5000 });
    if (run.error || run.status !== 0) add('FAIL', tool, `not found (install Debian's ffmpeg package, or set video.ffmpeg)`);
    else add('ok', tool, run.stdout.split('\n')[0] ?? '');
  }

  if (config && dataDir) {
    const finding = storagePlan(config, dataDir);
    if (finding) add(finding.level, 'video storage', finding.detail);
  }

  try {
    const ports = await listSerialPorts();
    if (ports.length === 0) add('warn', 'serial ports', 'none found (no USB-RS485 adapter plugged in?)');
    for (const p of ports) add('ok', 'serial port', [p.path, p.byId, p.manufacturer].filter(Boolean).join('  '));
  } catch (err) {
    add('warn', 'serial ports', `cannot list: ${(err as Error).message} (is udev installed?)`);
  }

  const ntp = spawnSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 5000 });
  if (ntp.error || ntp.status !== 0) add('warn', 'clock', 'cannot ask timedatectl whether the clock is synchronised');
  else if (ntp.stdout.trim() === 'yes') add('ok', 'clock', 'synchronised (NTP)');
  else add('warn', 'clock', 'NOT synchronised: event times and patrol windows depend on it; enable NTP (timedatectl set-ntp true)');

  for (const f of findings) console.log(`${f.level.padEnd(4)}  ${f.what}: ${f.detail}`);
  return findings.some((f) => f.level === 'FAIL') ? 1 : 0;
}

/** The retention the recordings disk can really hold at the bitrates measured in the last day. */
function storagePlan(config: GuardpostConfig, dataDir: string): Omit<Finding, 'what'> | null {
  const cameras = Object.entries(config.devices).filter(([, d]) => d.kind === 'camera' && d.enabled !== false);
  if (cameras.length === 0) return null;
  const dbPath = join(dataDir, databaseFileName);
  if (!existsSync(dbPath)) return { level: 'warn', detail: 'nothing recorded yet: run the gateway a day, then ask again for a storage plan from measured bitrates' };
  const recordings = resolve(dataDir, config.video.recordings_dir);
  let db: Database.Database | null = null;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const repo = new VideoRepo(db);
    const now = Date.now();
    const max = config.video.max_gb;
    const plan = planStorage({
      disk: footageSpace(existsSync(recordings) ? recordings : dataDir, max === undefined ? null : max * 1e9, () => repo.usedBytes()),
      floorBytes: config.video.min_free_gb * 1e9,
      retentionDays: config.video.retention_days,
      pending: null,
      lastDay: repo.usageSince(now - 86_400_000),
      all: repo.usage(),
      // Offline, the doctor knows a sub-stream only from config; ONVIF cameras nearly always offer one.
      cameras: cameras.map(([id, d]) => ({ id, name: d.name ?? id, hasSubStream: d.type === 'rtsp' ? typeof d.sub_url === 'string' : true, recordsMain: config.video.cameras[id]?.record_stream !== 'sub' })),
      now,
    });
    if (plan.capacityDays === null) return { level: 'warn', detail: 'no bitrate measured yet (no footage in the last day)' };
    const rates = plan.cameras.map((c) => `${c.id} ${c.bitrateKbps ?? '?'} kbit/s`).join(', ');
    if (!plan.shortfall) return { level: 'ok', detail: `the disk holds ${plan.capacityDays} days at the measured bitrates (${rates}); retention is ${plan.retentionDays} days` };
    const advice = plan.advice
      .map((a) =>
        a.code === 'use-sub-stream'
          ? `record ${a.camera}'s sub-stream (video.cameras.${a.camera}.record_stream: sub)`
          : a.code === 'lower-bitrate'
            ? `lower ${a.camera}'s bitrate to about ${a.figure} kbit/s`
            : a.code === 'bigger-disk'
              ? `or add ${gib(a.figure ?? 0)} of disk`
              : '',
      )
      .filter(Boolean)
      .join('; ');
    return { level: 'warn', detail: `the disk holds only ${plan.capacityDays} of the configured ${plan.retentionDays} days at the measured bitrates (${rates}): ${advice}` };
  } catch (err) {
    return { level: 'warn', detail: `cannot read the recording index: ${(err as Error).message}` };
  } finally {
    db?.close();
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
