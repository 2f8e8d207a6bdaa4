// ONVIF event notifications (WS-BaseNotification NotificationMessage with a tt:Message) read into camera events. Pure.
import { child, type XmlElement } from '../xml.js';
import { dateTime, subscriptionLeftMs, UnexpectedAnswer } from './soap.js';

export interface CameraNotification {
  /** The topic without namespace prefixes: "RuleEngine/CellMotionDetector/Motion". */
  topic: string;
  source?: Record<string, string>;
  data: Record<string, string | number | boolean>;
  /** tt:Message/@UtcTime, epoch ms, when given and valid. */
  at?: number;
  /** Initialized (state when subscribing), Changed or Deleted. */
  operation?: string;
}

export interface PullMessagesResult {
  notifications: CameraNotification[];
  /** Why some NotificationMessages were left out; each reason is fixed text, so it can be counted. */
  problems: string[];
  /** Time the subscription has left by the camera's clock, when it says. */
  leftMs?: number;
}

/** "tns1:RuleEngine/CellMotionDetector/Motion" or "tns1:Device/tnsaxis:Sensor/PIR" without the prefixes. */
export function topicName(text: string): string {
  return text
    .trim()
    .split('/')
    .map((part) => part.slice(part.lastIndexOf(':') + 1).trim())
    .filter(Boolean)
    .join('/');
}

/** xs:boolean and plain decimal numbers become booleans and numbers; anything else stays text (a "0012" token keeps its zeros). */
function value(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(0|[1-9]\d{0,14})(\.\d{1,6})?$/.test(text)) return Number(text);
  return text;
}

function simpleItems(el: XmlElement | undefined): { items: [string, string][]; unnamed: boolean } {
  const items: [string, string][] = [];
  let unnamed = false;
  for (const item of el?.children ?? []) {
    if (item.name !== 'SimpleItem') continue; // ElementItem carries XML (a shape, a picture): not a simple value
    const name = item.attributes.Name;
    if (!name) unnamed = true;
    else items.push([name, item.attributes.Value ?? '']);
  }
  return { items, unnamed };
}

/** One NotificationMessage; a fixed reason when it cannot be read. */
export function readNotification(el: XmlElement): CameraNotification | string {
  const topicEl = child(el, 'Topic');
  if (!topicEl) return 'notification without a Topic';
  const topic = topicName(topicEl.text);
  if (!topic) return 'notification with an empty Topic';
  const message = child(child(el, 'Message'), 'Message');
  if (!message) return 'notification without a tt:Message';
  const source = simpleItems(child(message, 'Source'));
  const data = simpleItems(child(message, 'Data'));
  if (source.unnamed || data.unnamed) return 'SimpleItem without a Name';
  const at = dateTime(message.attributes.UtcTime);
  const operation = message.attributes.PropertyOperation;
  return {
    topic,
    ...(source.items.length > 0 ? { source: Object.fromEntries(source.items) } : {}),
    data: Object.fromEntries(data.items.map(([k, v]) => [k, value(v)])),
    ...(at !== undefined ? { at } : {}),
    ...(operation ? { operation } : {}),
  };
}

/** tev:PullMessagesResponse; throws UnexpectedAnswer when the Body holds something else. */
export function readPullMessages(body: XmlElement): PullMessagesResult {
  const response = child(body, 'PullMessagesResponse');
  if (!response) throw new UnexpectedAnswer(`answer without PullMessagesResponse (got ${body.children.map((c) => `<${c.name}>`).join(', ') || 'an empty Body'})`);
  const notifications: CameraNotification[] = [];
  const problems: string[] = [];
  for (const el of response.children) {
    if (el.name !== 'NotificationMessage') continue;
    const read = readNotification(el);
    if (typeof read === 'string') problems.push(read);
    else notifications.push(read);
  }
  const leftMs = subscriptionLeftMs(response);
  return { notifications, problems, ...(leftMs !== undefined ? { leftMs } : {}) };
}
