// The process logger: pino JSON on stdout (pretty in a terminal) with secrets and personal numbers redacted.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets or personal numbers anywhere in a log object. Values there are
 * replaced, never printed; drivers mask card numbers themselves before logging a device event.
 */
export const redactPaths = [
  'password',
  '*.password',
  'pin',
  '*.pin',
  'pin_hash',
  '*.pin_hash',
  'password_hash',
  '*.password_hash',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'id_number',
  '*.id_number',
  'phone',
  '*.phone',
  'card',
  '*.card',
  'credential.value',
  '*.credential.value',
];

export function createLogger(level: string, opts: { pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const options: LoggerOptions = {
    level,
    base: undefined,
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } });
  }
  return pino(options);
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
