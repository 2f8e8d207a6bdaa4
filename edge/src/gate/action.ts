// One guard action at a time: busy while it runs, its error, and an Idempotency-Key that a retry reuses.
import { useCallback, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { translateOpen, type MsgKey, type Translate } from '../i18n.ts';
import { newKey } from './gateApi.ts';

export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, String(err));
}

// The gateway's stable `problem` codes (and a few error codes) that the screen says in the guard's language.
const problemText: Record<string, MsgKey> = {
  watchlist: 'err.watchlist',
  not_confirmed: 'err.not_confirmed',
  state: 'err.state',
  checksum: 'err.checksum',
  length: 'err.length',
  characters: 'err.characters',
  region: 'err.region',
  'birth-date': 'err.birth-date',
  format: 'err.format',
  type: 'err.type',
  province: 'err.province',
  empty: 'err.empty',
  required: 'err.required',
  'unknown-unit': 'err.unknown-unit',
  'unknown-code': 'preregNotFound',
  used: 'preregUsed',
  'wrong-day': 'err.wrong-day',
  'in-past': 'err.in-past',
  'before-start': 'datesReversed',
  'too-long': 'err.too-long',
  date: 'err.date',
  'card-in-use': 'err.card-in-use',
  'unknown-visitor': 'err.unknown-visitor',
  'not-valid-today': 'err.not-valid-today',
};
const codeText: Record<string, MsgKey> = { forbidden: 'err.forbidden', not_found: 'err.not_found', watchlist: 'err.watchlist', not_confirmed: 'err.not_confirmed' };

/** What to tell the guard: the problem in the current language where we know it, else the server's own message. */
export function errorText(err: ApiError, t: Translate): string {
  if (err.status === 0) return t('gatewayUnreachable');
  const key = problemText[err.problem] ?? codeText[err.code];
  if (key) return t(key);
  // A pass refused at the gate names the decision's reason (expired, outside-window, anti-passback...).
  if (err.problem) {
    const reason = translateOpen(t, 'decisionReason', err.problem);
    if (reason !== err.problem) return reason;
  }
  if (err.status === 403) return t('err.forbidden');
  return err.message || t('err.unknown');
}

/** Stopped by the watchlist: the brief's `watchlist` error code, or the gateway's conflict with problem `watchlist`. */
export const isWatchlistStop = (err: ApiError | null) => !!err && (err.problem === 'watchlist' || err.code === 'watchlist');

export type Field = 'idNumber' | 'phone' | 'name' | 'hostUnit' | 'hostName' | 'plate' | 'reason' | 'headcount' | 'leave' | 'date' | 'preregistration' | 'confirmedBy';

// The request's field names as the gateway reports them, onto the form's fields.
const serverField: Record<string, Field> = {
  idNumber: 'idNumber',
  carrierIdNumber: 'idNumber',
  visitorId: 'idNumber',
  phone: 'phone',
  name: 'name',
  holderName: 'name',
  hostUnitId: 'hostUnit',
  unitId: 'hostUnit',
  hostName: 'hostName',
  plate: 'plate',
  reason: 'reason',
  headcount: 'headcount',
  expectedLeaveAt: 'leave',
  fromDate: 'date',
  toDate: 'date',
  validOn: 'date',
  preregistrationCode: 'preregistration',
  confirmation: 'confirmedBy',
};

// Schema errors (fastify) name the field only in the message, e.g. "body/name must NOT have fewer than 1 characters".
const fieldWords: [RegExp, Field][] = [
  [/idnumber/i, 'idNumber'],
  [/plate/i, 'plate'],
  [/phone/i, 'phone'],
  [/hostunit|unitid/i, 'hostUnit'],
  [/hostname/i, 'hostName'],
  [/confirm/i, 'confirmedBy'],
  [/headcount/i, 'headcount'],
  [/preregistration/i, 'preregistration'],
  [/expectedleave/i, 'leave'],
  [/reason/i, 'reason'],
  [/\bname\b/i, 'name'],
];

/** The form field a server error belongs to, when it can be told; otherwise the error shows for the whole form. */
export function errorField(err: ApiError): Field | null {
  if (err.field) return serverField[err.field] ?? null;
  if (err.status !== 400) return null;
  for (const [re, field] of fieldWords) if (re.test(err.message)) return field;
  return null;
}

export interface Action {
  busy: boolean;
  error: ApiError | null;
  /**
   * Runs `fn` with the key of the action named `id`. A definite answer (success or a 4xx) ends the key;
   * an unknown outcome (no answer, 5xx) keeps it, so tapping again retries the same request.
   */
  run<T>(id: string, fn: (key: string) => Promise<T>): Promise<T | undefined>;
  clear(): void;
}

export function useAction(): Action {
  const keys = useRef(new Map<string, string>());
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const run = useCallback(async <T>(id: string, fn: (key: string) => Promise<T>): Promise<T | undefined> => {
    if (running.current) return undefined; // a double tap while the first request is on its way
    running.current = true;
    setBusy(true);
    setError(null);
    let key = keys.current.get(id);
    if (!key) {
      key = newKey();
      keys.current.set(id, key);
    }
    try {
      const result = await fn(key);
      keys.current.delete(id);
      return result;
    } catch (err) {
      const e = asApiError(err);
      if (e.status >= 400 && e.status < 500) keys.current.delete(id);
      setError(e);
      return undefined;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);

  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}
