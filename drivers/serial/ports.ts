// Lists the machine's serial ports with their stable /dev/serial/by-id paths, for setup and `guardpost doctor`.
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

/** What SerialPort.list() reports about a port (path, manufacturer, serialNumber, vendorId, ...). */
export type PortInfo = Awaited<ReturnType<typeof SerialPort.list>>[number];

export interface SerialPortInfo extends PortInfo {
  /** The /dev/serial/by-id/... symlink to this port, when udev made one (USB adapters); survives replugging. */
  byId?: string;
}

export const defaultByIdDir = '/dev/serial/by-id';

/**
 * Maps each device a by-id symlink points at (its real path, e.g. /dev/ttyUSB0) to that symlink.
 * Empty when the directory is missing, which is normal on a machine with no USB serial adapter.
 */
export async function readByIdLinks(dir: string = defaultByIdDir): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return new Map();
  }
  const links = new Map<string, string>();
  // Sorted, so a device with several links (one per USB interface name) always gets the same one.
  for (const name of names.sort()) {
    const link = join(dir, name);
    try {
      const target = await realpath(link);
      if (!links.has(target)) links.set(target, link);
    } catch {
      // A dangling link: the adapter was unplugged between readdir and realpath.
    }
  }
  return links;
}

/** SerialPort.list() (needs udevadm) with each port's by-id path added where there is one. */
export async function listSerialPorts(opts: { byIdDir?: string } = {}): Promise<SerialPortInfo[]> {
  const [ports, links] = await Promise.all([SerialPort.list(), readByIdLinks(opts.byIdDir)]);
  return Promise.all(
    ports.map(async (port): Promise<SerialPortInfo> => {
      const real = await realpath(port.path).catch(() => port.path);
      const byId = links.get(real);
      return byId ? { ...port, byId } : { ...port };
    }),
  );
}
