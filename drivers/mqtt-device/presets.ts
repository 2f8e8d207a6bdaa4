// Ready-made mappings for firmware whose topics and payloads are known: Tasmota and ESPHome RFID readers.
import type { DeviceKind } from '../contract.js';
import type { EventRule, Rule, Transform } from './mapping.js';

export const presetNames = ['tasmota-rfid', 'esphome-rfid'] as const;
export type PresetName = (typeof presetNames)[number];

/** Which kinds of device a preset can be: an RFID reader at a gate, or a patrol checkpoint reader. */
export const presetKinds: readonly DeviceKind[] = ['reader', 'checkpoint'];

/**
 * How the card number is written: the UID in hex as the firmware prints it (A1B2C3D4), or the
 * 4-byte UID as the 10-digit decimal number printed on Chinese compound card lists, in the byte
 * order the card sends ("正码") or reversed ("反码"), whichever the site's card list uses.
 */
export const cardNumberForms = ['hex', 'decimal', 'decimal-reversed'] as const;
export type CardNumberForm = (typeof cardNumberForms)[number];

/** Topic filters (with `{id}`) the device uses beyond its rules; see ExtraTopics in the broker. */
export interface PresetTopics {
  publish: string[];
  subscribe: string[];
  shared: string[];
}

export interface Preset {
  rules: Rule[];
  topics: PresetTopics;
}

const cardForm: Record<CardNumberForm, { transform: Transform[]; format: string }> = {
  hex: { transform: [], format: 'uid-hex' },
  decimal: { transform: ['hex-to-decimal'], format: 'uid-decimal' },
  'decimal-reversed': { transform: ['hex-reversed-to-decimal'], format: 'uid-decimal-reversed' },
};

/** A tag read: a credential at a reader, a checkpoint tag at a patrol point. */
function tagRule(kind: DeviceKind, cardNumber: CardNumberForm, rule: { topic: string; value: string; where?: EventRule['where']; clean: Transform[] }): EventRule {
  const form = cardForm[cardNumber];
  const transform = [...rule.clean, ...form.transform];
  const base = { topic: rule.topic, value: rule.value, transform, ...(rule.where ? { where: rule.where } : {}) };
  return kind === 'checkpoint' ? { ...base, event: 'checkpoint' } : { ...base, event: 'credential', kind: 'card', format: form.format };
}

export function preset(name: PresetName, opts: { kind: DeviceKind; cardNumber: CardNumberForm }): Preset {
  const { kind, cardNumber } = opts;
  switch (name) {
    case 'tasmota-rfid':
      // Tasmota (xsns_80_mfrc522.ino, xsns_40_pn532.ino) reports a read as immediate telemetry on
      // tele/<Topic>/SENSOR: {"Time":"2021-01-23T13:10:50","RC522":{"UID":"BA839D07",...}} or
      // {"Time":...,"PN532":{"UID":"94D8FC5F",...}}, the UID as upper-case hex without separators.
      // Periodic telemetry on the same topic carries other sensors and no reader block: `where` skips it.
      return {
        rules: [
          { topic: 'tele/{id}/LWT', online: 'Online', offline: 'Offline' },
          tagRule(kind, cardNumber, { topic: 'tele/{id}/SENSOR', where: { path: '$.RC522' }, value: '$.RC522.UID', clean: ['trim', 'upper'] }),
          tagRule(kind, cardNumber, { topic: 'tele/{id}/SENSOR', where: { path: '$.PN532' }, value: '$.PN532.UID', clean: ['trim', 'upper'] }),
          // Buzzer <count>,<tenths of a second> needs a GPIO set to Buzzer.
          { command: 'buzzer', topic: 'cmnd/{id}/Buzzer', payload: '{count|1},{tenths|1}' },
          // A relay on the reader's board (a door strike); PulseTime1 on the device turns it off again.
          { command: 'open', topic: 'cmnd/{id}/Power1', payload: 'ON' },
        ],
        topics: {
          // tele/ and stat/ carry its LWT, state, telemetry and command replies. Unless SetOption90 is
          // on, Tasmota also publishes an empty cmnd/<Topic>/POWER on every connect.
          publish: ['tele/{id}/#', 'stat/{id}/#', 'cmnd/{id}/POWER'],
          subscribe: ['cmnd/{id}/#'],
          // Tasmota announces itself (or clears the announcement) on tasmota/discovery/<MAC>/... after
          // every connect; the MAC is not in the config, and a refused publish would disconnect it.
          shared: ['tasmota/discovery/+/config', 'tasmota/discovery/+/sensors'],
        },
      };
    case 'esphome-rfid':
      // ESPHome's MQTT client announces <name>/status "online" (retained) and leaves "offline" as its
      // will; an on_tag automation publishes the UID text x, formatted 74-10-37-94, on <name>/tag.
      return {
        rules: [
          { topic: '{id}/status', online: 'online', offline: 'offline' },
          tagRule(kind, cardNumber, { topic: '{id}/tag', value: 'payload', clean: ['trim', 'strip-separators', 'upper'] }),
          { command: 'buzzer', topic: '{id}/cmd/buzzer', payload: '{count|1}' },
          { command: 'open', topic: '{id}/cmd/open', payload: 'ON' },
        ],
        topics: { publish: ['{id}/#'], subscribe: ['{id}/#'], shared: [] },
      };
  }
}
