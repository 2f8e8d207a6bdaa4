// Visit reasons: chips in the guard's language, stored in zh-CN (the management office reads the records in Chinese).
import { translator, type MsgKey, type Translate } from '../i18n.ts';

export const visitReasons = ['visiting', 'delivery', 'courier', 'repair', 'viewing', 'other'] as const;
export type VisitReason = (typeof visitReasons)[number];

const zh = translator('zh-CN');
const key = (r: VisitReason): MsgKey => `visitReason.${r}`;

/** What is stored for a chip (and the free text the guard typed for "other"). */
export function reasonValue(r: VisitReason, other: string): string {
  return r === 'other' && other.trim() ? other.trim() : zh(key(r));
}

/** The chip a stored reason came from, if any; free text counts as "other". */
export function reasonFromValue(stored: string): { reason: VisitReason; other: string } {
  const r = visitReasons.find((x) => zh(key(x)) === stored);
  return r ? { reason: r, other: '' } : { reason: 'other', other: stored };
}

/** A stored reason in the current language when it is one of the chips, else as typed. */
export function reasonLabel(t: Translate, stored: string): string {
  const r = visitReasons.find((x) => zh(key(x)) === stored);
  return r ? t(key(r)) : stored;
}
