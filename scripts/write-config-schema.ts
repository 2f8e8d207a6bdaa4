// Writes config/schema.json (for editors) from the schema in code, the single source.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorJsonSchema } from '../config/schema.js';
import { packageRoot } from '../gateway/core/paths.js';

export const schemaJsonPath = join(packageRoot, 'config', 'schema.json');

export function renderSchemaJson(): string {
  return `${JSON.stringify(editorJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(schemaJsonPath, renderSchemaJson());
  console.log(`wrote ${schemaJsonPath}`);
}
