// Masking of personal numbers (card, ID, phone) for screens and logs.

/** Keep the last `keep` characters, replace the rest with '*'. Short values are masked whole. */
export function maskTail(value: string, keep = 4): string {
  if (value.length <= keep) return '*'.repeat(value.length);
  return '*'.repeat(value.length - keep) + value.slice(-keep);
}

/** Mainland ID numbers and passports: first 3 and last 4 shown, as Chinese services display them. */
export function maskIdNumber(value: string): string {
  if (value.length <= 7) return '*'.repeat(value.length);
  return value.slice(0, 3) + '*'.repeat(value.length - 7) + value.slice(-4);
}

/** Phone numbers: 138****5678. */
export function maskPhone(value: string): string {
  if (value.length < 7) return '*'.repeat(value.length);
  return value.slice(0, 3) + '*'.repeat(value.length - 7) + value.slice(-4);
}

/**
 * Removes the user:password part of every URL in a text (rtsp://admin:secret@10.0.0.5/... becomes
 * rtsp://***@10.0.0.5/...): ffmpeg prints its input URL, and camera URLs carry their credentials.
 */
export function scrubUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1***@');
}
