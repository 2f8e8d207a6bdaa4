// Pure parser for devices that speak guardpost's own MQTT topics: topic + payload in, typed result out.
import { eventsByKind, type DeviceEvent, type DeviceKind } from '../contract.js';

export type ParsedMessage =
  | { kind: 'event'; event: DeviceEvent }
  | { kind: 'status'; online: boolean }
  | { kind: 'ack'; id: string; ok: boolean; detail?: string }
  /** Our own command on its way to the device: not for us. */
  | { kind: 'ignore' }
  | { kind: 'reject'; reason: string };


const maxText = 128;
// Devices' clocks drift; a time further than this from ours is not believed.
const maxClockSkewMs = 24 * 3600 * 1000;

export function parseDeviceMessage(deviceId: string, kind: DeviceKind, topic: string, payload: Buffer, receivedAt: number): ParsedMessage {
  const prefix = `gp/dev/${deviceId}/`;
  if (!topic.startsWith(prefix)) return { kind: 'reject', reason: 'topic outside the device prefix' };
  const rest = topic.slice(prefix.length).split('/');
  const [head, type] = rest;
  if (head === 'cmd') return { kind: 'ignore' };
  if (head === 'status' && rest.length === 1) {
    const text = payload.toString('utf8').trim().toLowerCase();
    if (text === 'online') return { kind: 'status', online: true };
    if (text === 'offline') return { kind: 'status', online: false };
    return { kind: 'reject', reason: 'status is neither online nor offline' };
  }
  if (head === 'ack' && rest.length === 1) {
    const body = parseObject(payload);
    if (!body) return { kind: 'reject', reason: 'ack is not a JSON object' };
    if (typeof body.id !== 'string' || body.id.length === 0 || body.id.length > maxText) return { kind: 'reject', reason: 'ack without a command id' };
    const detail = typeof body.detail === 'string' ? body.detail.slice(0, maxText) : undefined;
    return { kind: 'ack', id: body.id, ok: body.ok !== false, ...(detail ? { detail } : {}) };
  }
  if (head !== 'event' || rest.length !== 2 || !type) return { kind: 'reject', reason: 'unknown topic' };

  if (!(eventsByKind[kind] as readonly string[]).includes(type)) return { kind: 'reject', reason: `event type not expected from a ${kind}` };
  const body = parseObject(payload);
  if (!body) return { kind: 'reject', reason: 'payload is not a JSON object' };
  const at = deviceTime(body.at, receivedAt);
  switch (type) {
    case 'credential': {
      const credKind = body.kind ?? 'card';
      if (credKind !== 'card' && credKind !== 'pin' && credKind !== 'qr') return { kind: 'reject', reason: 'credential kind must be card, pin or qr' };
      if (!isText(body.value)) return { kind: 'reject', reason: 'credential without a value' };
      const format = isText(body.format) ? body.format : undefined;
      return { kind: 'event', event: { type: 'credential', deviceId, at, credential: { kind: credKind, value: body.value, ...(format ? { format } : {}) } } };
    }
    case 'plate': {
      if (!isText(body.plate)) return { kind: 'reject', reason: 'plate event without a plate' };
      const confidence = typeof body.confidence === 'number' && body.confidence >= 0 && body.confidence <= 1 ? body.confidence : undefined;
      const snapshot = isText(body.snapshot) ? body.snapshot : undefined;
      return {
        kind: 'event',
        event: { type: 'plate', deviceId, at, plate: body.plate.trim(), ...(confidence !== undefined ? { confidence } : {}), ...(snapshot ? { snapshot } : {}) },
      };
    }
    case 'checkpoint': {
      if (!isText(body.tag)) return { kind: 'reject', reason: 'checkpoint event without a tag' };
      return { kind: 'event', event: { type: 'checkpoint', deviceId, at, tag: body.tag } };
    }
    default: {
      // state: a flat map of scalars, e.g. {"position":"up","tamper":false}
      const state: Record<string, string | number | boolean> = {};
      for (const [key, value] of Object.entries(body)) {
        if (key === 'at') continue;
        if (key.length > 32) return { kind: 'reject', reason: 'state key too long' };
        if (typeof value === 'string') state[key] = value.slice(0, maxText);
        else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') state[key] = value;
        else return { kind: 'reject', reason: 'state value is not a string, number or boolean' };
      }
      if (Object.keys(state).length === 0) return { kind: 'reject', reason: 'empty state' };
      return { kind: 'event', event: { type: 'state', deviceId, at, state } };
    }
  }
}

function parseObject(payload: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= maxText;
}

function deviceTime(v: unknown, receivedAt: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v - receivedAt) <= maxClockSkewMs) return v;
  return receivedAt;
}
