// Record identifiers: UUIDv7, sortable by creation time and unique across sites.
import { v7 } from 'uuid';

export function newId(): string {
  return v7();
}
