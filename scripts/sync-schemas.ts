// Writes the HQ contract's JSON Schema files (sync/contract/**/*.schema.json) from the TypeBox in sync/, the single source.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TSchema } from 'typebox';
import { MasterData, UpAnswer, UpBatch, contractVersion, masterKinds } from '../sync/contract.js';
import { masterDataSchemas } from '../sync/master.js';
import { recordSchemas, streams } from '../sync/records.js';
import { packageRoot } from '../gateway/core/paths.js';

export const contractDir = join(packageRoot, 'sync', 'contract');

/** Folders that hold only generated files: a schema no longer generated is removed from them. */
export const generatedDirs = ['records', 'master'];

function document(path: string, title: string, schema: TSchema): string {
  const doc = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://guardpost.invalid/sync/v${contractVersion}/${path}`,
    title,
    // Through JSON: TypeBox's own markers are not enumerable and stay behind.
    ...(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Every generated file: its path under sync/contract/ and its text. */
export function renderContractSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  const add = (path: string, title: string, schema: TSchema) => files.set(path, document(path, title, schema));
  add('up-batch.schema.json', 'guardpost: a batch of outbox records a gate sends to HQ', UpBatch);
  add('up-answer.schema.json', "guardpost: HQ's answer to a batch", UpAnswer);
  add('master-data.schema.json', 'guardpost: a versioned copy of master data HQ publishes', MasterData);
  for (const stream of streams) add(`records/${stream}.schema.json`, `guardpost: the data of a record of stream ${stream}`, recordSchemas[stream]);
  for (const kind of masterKinds) add(`master/${kind}.schema.json`, `guardpost: the data of master data kind ${kind}`, masterDataSchemas[kind]);
  return files;
}

/** Files in the generated folders that the generator no longer makes. */
export function staleContractFiles(files: Map<string, string>): string[] {
  const stale: string[] = [];
  for (const dir of generatedDirs) {
    let names: string[];
    try {
      names = readdirSync(join(contractDir, dir));
    } catch {
      continue;
    }
    for (const name of names) if (name.endsWith('.schema.json') && !files.has(`${dir}/${name}`)) stale.push(`${dir}/${name}`);
  }
  return stale;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = renderContractSchemas();
  for (const [path, text] of files) {
    mkdirSync(dirname(join(contractDir, path)), { recursive: true });
    writeFileSync(join(contractDir, path), text);
  }
  for (const path of staleContractFiles(files)) rmSync(join(contractDir, path));
  console.log(`wrote ${files.size} schema files under ${contractDir}`);
}
