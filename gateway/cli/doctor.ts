// guardpost doctor: checks the machine a gate house runs on (config, data disk, ffmpeg, serial ports, clock).
import { spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatProblems, loadConfigFile, ConfigError } from '../../config/load.js';
import { listSerialPorts } from '../../drivers/serial/ports.js';
import { prepareDataDir } from '../store/db.js';

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
  try {
    const config = loadConfigFile(configPath, process.env);
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

  for (const tool of ['ffmpeg', 'ffprobe']) {
    const run = spawnSync(tool, ['-version'], { encoding: 'utf8', timeout: 5000 });
    if (run.error || run.status !== 0) add('FAIL', tool, `not found on PATH (install Debian's ffmpeg package)`);
    else add('ok', tool, run.stdout.split('\n')[0] ?? '');
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

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
