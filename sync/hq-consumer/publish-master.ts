// publish-master: HQ's next version of one kind of master data, stored in master_data and retained on the compound's master topic.
import { readFileSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { masterTopic, type MasterKind } from '../contract.js';
import type { ContractChecker } from './check.js';
import type { HqStore, MasterRow } from './store.js';

export interface PublishMasterOptions {
  compound: string;
  kind: MasterKind;
  /** A JSON file holding the kind's `data` (see sync/contract/master/<kind>.schema.json). */
  file: string;
  /** HQ's broker; without it the version is only stored, for gates that ask over HTTPS. */
  mqtt?: { url: string; username?: string; password?: string };
}

/** A mistake in what was asked (unreadable or invalid file): said plainly, nothing stored. */
export class MasterInputError extends Error {}

/** Read and check the file, then store the version and publish it; the version is kept only if the broker took it. */
export async function publishMaster(opts: PublishMasterOptions, checker: ContractChecker, store: HqStore): Promise<MasterRow> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(opts.file, 'utf8'));
  } catch (err) {
    throw new MasterInputError(`${opts.file}: ${(err as Error).message}`);
  }
  const problem = checker.checkMasterData(opts.kind, data);
  if (problem !== null) throw new MasterInputError(`${opts.file}: not ${opts.kind} master data: ${problem}`);

  let client: MqttClient | null = null;
  if (opts.mqtt) {
    client = await connectAsync(opts.mqtt.url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(opts.mqtt.username !== undefined ? { username: opts.mqtt.username } : {}),
      ...(opts.mqtt.password !== undefined ? { password: opts.mqtt.password } : {}),
    });
  }
  try {
    return await store.addMaster(opts.compound, opts.kind, data, Date.now(), async (row) => {
      // Retained: a gate that connects later, or comes back after a week, gets the current version at once.
      await client?.publishAsync(masterTopic(opts.compound, opts.kind), JSON.stringify(row), { qos: 1, retain: true, properties: { contentType: 'application/json' } });
    });
  } finally {
    await client?.endAsync();
  }
}
