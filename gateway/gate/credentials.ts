// How card numbers and pass QR codes are compared: one normal form for readers, imports and the console.

/**
 * Readers print the same card with or without leading zeros and in either hex case, so digits lose
 * their leading zeros and hex is upper-cased before any compare.
 */
export function normaliseCard(raw: string): string {
  const value = raw.trim().replace(/\s+/g, '');
  if (/^\d+$/.test(value)) return value.replace(/^0+(?=\d)/, '');
  return value.toUpperCase();
}

const qrPrefix = 'GP1:';

/** The pass code inside a QR payload "GP1:<code>", or null for anything else. */
export function passCodeFromQr(raw: string): string | null {
  const value = raw.trim();
  if (!value.toUpperCase().startsWith(qrPrefix)) return null;
  const code = value.slice(qrPrefix.length).toUpperCase();
  return /^[0-9A-Z]{4,12}$/.test(code) ? code : null;
}

export function passQrPayload(code: string): string {
  return `${qrPrefix}${code}`;
}
