// Config loading: the demo site is valid, mistakes are all reported with their lines, env overrides apply.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblems, loadConfigFile, parseConfig } from '../../config/load.js';
import { defaultConfigPath, packageRoot } from '../../gateway/core/paths.js';
import { renderSchemaJson, schemaJsonPath } from '../../scripts/write-config-schema.js';

const demo = readFileSync(defaultConfigPath, 'utf8');

function problems(text: string, env = {}): string[] {
  try {
    parseConfig(text, 'site.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return formatProblems(err.problems);
    throw err;
  }
  return [];
}

describe('config', () => {
  it('accepts the demo site and fills defaults', () => {
    const config = loadConfigFile(defaultConfigPath);
    expect(config.site.id).toBe('demo-compound');
    expect(config.mqtt.max_payload_bytes).toBe(262144);
    expect(Object.keys(config.devices)).toHaveLength(8);
    expect(config.demo?.enabled).toBe(true);
  });

  it('reports every mistake at once, each with file, line, path and what was expected', () => {
    const bad = demo
      .replace('  port: 8080', '  port: "eighty"')
      .replace('    role: operator', '    role: janitor')
      .replace('log:\n  level: info', 'log:\n  level: info\n  colour: true');
    const lines = problems(bad);
    expect(lines).toHaveLength(3);
    const lineOf = (needle: string) => bad.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(lines).toContain(`site.yaml:${lineOf('port: "eighty"')} http.port: expected a TCP port number (1-65535), got "eighty"`);
    expect(lines).toContain(`site.yaml:${lineOf('role: janitor')} people.2.role: expected one of guard, operator, supervisor, admin, got "janitor"`);
    expect(lines).toContain(`site.yaml:${lineOf('colour: true')} log.colour: unknown key`);
  });

  it('checks device keys against the chosen driver only', () => {
    const bad = demo.replace('    kind: barrier\n', '    kind: barrier\n    port: 42\n');
    const lines = problems(bad);
    expect(lines).toEqual([expect.stringMatching(/^site\.yaml:\d+ devices\.barrier-north\.port: unknown key$/)]);
    const noType = demo.replace('    type: mqtt\n    kind: barrier\n', '    type: modbus-xyz\n    kind: barrier\n');
    expect(problems(noType)[0]).toMatch(/devices\.barrier-north\.type: expected a driver type: mqtt(, [a-z-]+)+, got "modbus-xyz"/);
    // A serial reader with a number for its port, as in the issue's own example.
    const serial = demo.replace('devices:\n', 'devices:\n  reader-north:\n    type: wiegand-serial\n    kind: reader\n    port: 42\n    preset: decimal\n    output: card\n');
    const line = serial.split('\n').findIndex((l) => l === '    port: 42') + 1;
    expect(problems(serial)).toEqual([`site.yaml:${line} devices.reader-north.port: expected a serial device path, got 42`]);
  });

  it('never echoes a mistyped secret', () => {
    // YAML reads an all-digit password as a number: the error must say so without printing it.
    const camera = demo.replace('devices:\n', 'devices:\n  cam-gate:\n    type: onvif\n    kind: camera\n    host: 10.0.0.5\n    username: admin\n    password: 20261122\n');
    const lines = problems(camera);
    expect(lines).toEqual([expect.stringMatching(/devices\.cam-gate\.password: expected .*, got a value \(hidden: it may be a secret\)$/)]);
    expect(lines.join('\n')).not.toContain('20261122');
  });

  it('names missing keys and invalid device ids', () => {
    const lines = problems(demo.replace(/ {4}password_hash: \S+\n/, '').replace('  cp-garage:', '  CP_Garage:'));
    expect(lines.some((l) => /devices\.reader-north-in\.password_hash: required key missing: expected a scrypt hash/.test(l))).toBe(true);
    expect(lines.some((l) => /devices\.CP_Garage: not a valid id/.test(l))).toBe(true);
  });

  it('reports YAML syntax errors with their line and never throws anything else on garbage', () => {
    expect(problems('site: [unclosed\n')[0]).toMatch(/^site\.yaml:\d+: YAML syntax/);
    expect(problems('just a string')[0]).toMatch(/expected .*got "just a string"|must be object/);
    expect(problems('')[0]).toMatch(/site\.yaml/);
    expect(problems('a: 1\na: 2\n')[0]).toMatch(/YAML syntax/);
  });

  it('checks references between sections', () => {
    const lines = problems(demo.replace('    - device: plate-north-in', '    - device: plate-south-in'));
    expect(lines).toEqual([expect.stringMatching(/demo\.simulators\.1\.device: expected the id of a device under devices, got "plate-south-in"/)]);
  });

  it('applies and validates environment overrides', () => {
    const config = parseConfig(demo, 'site.yaml', { GUARDPOST_DATA: '/tmp/x', GUARDPOST_HTTP_PORT: '9090', GUARDPOST_MQTT_PORT: '0' });
    expect(config.data_dir).toBe('/tmp/x');
    expect(config.http.port).toBe(9090);
    expect(config.mqtt.port).toBe(0);
    expect(problems(demo, { GUARDPOST_HTTP_PORT: 'abc' })).toEqual(['(environment) GUARDPOST_HTTP_PORT: expected a TCP port number (0-65535), got "abc"']);
  });

  it('accepts every example site in config/examples', () => {
    const dir = join(packageRoot, 'config', 'examples');
    const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const file of examples) expect(() => loadConfigFile(join(dir, file)), file).not.toThrow();
  });

  it('keeps config/schema.json in step with the schema in code', () => {
    // Regenerate with `npm run schema` after changing config/schema.ts.
    expect(readFileSync(schemaJsonPath, 'utf8')).toBe(renderSchemaJson());
  });
});
