// Test configs derived from the demo site, so tests exercise the same file a new user runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfigPath } from '../../gateway/core/paths.js';

export const demoYaml = readFileSync(defaultConfigPath, 'utf8');

/** The demo site with its simulators switched off: only the test's own clients talk. */
export function quietDemoConfig(dir: string): string {
  const path = join(dir, 'quiet.yaml');
  writeFileSync(path, demoYaml.replace('demo:\n  enabled: true', 'demo:\n  enabled: false'));
  return path;
}

export const demoPasswords = {
  reader: 'demo-reader-pw',
  barrier: 'demo-barrier-pw',
} as const;
