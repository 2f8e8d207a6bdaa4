// Where the package's own files are, the same from sources (tests) and from the compiled dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'guardpost') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('guardpost package root not found');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const migrationsDir = join(packageRoot, 'gateway', 'store', 'migrations');
export const defaultConfigPath = join(packageRoot, 'config', 'default.yaml');
export const edgeDistDir = join(packageRoot, 'dist', 'edge');
export const demoResidentsPath = join(packageRoot, 'config', 'demo-residents.csv');
export const demoPatrolPlanPath = join(packageRoot, 'config', 'demo-patrol.json');
