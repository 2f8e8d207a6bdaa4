// HTTP servers shared by plate-camera devices: one per listen host:port, reference-counted, requests routed by path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';

/** Handles a request for one device's path; `rest` is what follows that path ("" or e.g. "/keepalive"). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, rest: string) => void;

interface SharedServer {
  key: string;
  server: Server;
  routes: Map<string, RouteHandler>;
  /** Settles once the first listen() did; a failed listen takes the whole entry away. */
  listening: Promise<void>;
  sockets: Set<Socket>;
}

const servers = new Map<string, SharedServer>();
/** Servers being closed, by key: a new listen on the same port waits for the old socket to be released. */
const closing = new Map<string, Promise<void>>();

/** A request has this long to send its headers and body; a camera push takes milliseconds. */
const requestTimeoutMs = 30_000;

/** Route for a path: the exact path, else the longest configured path that is a prefix at a "/". */
function lookup(routes: Map<string, RouteHandler>, pathname: string): { handler: RouteHandler; rest: string } | null {
  let candidate = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  for (;;) {
    const handler = routes.get(candidate);
    if (handler) return { handler, rest: pathname.slice(candidate.length) };
    const slash = candidate.lastIndexOf('/');
    if (slash <= 0) return routes.has('/') && candidate !== '/' ? { handler: routes.get('/') as RouteHandler, rest: pathname } : null;
    candidate = candidate.slice(0, slash);
  }
}

function dispatch(entry: SharedServer, req: IncomingMessage, res: ServerResponse): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://camera.invalid');
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('bad request URL\n');
    return;
  }
  const route = lookup(entry.routes, url.pathname);
  if (!route) {
    // Nothing to count against: no device owns this path. The body is small or cut off by close.
    res.writeHead(404, { 'content-type': 'text/plain', connection: 'close' }).end('no device at this path\n');
    return;
  }
  route.handler(req, res, url, route.rest);
}

async function open(key: string, host: string, port: number, log: Logger): Promise<SharedServer> {
  const previous = closing.get(key);
  if (previous) await previous;
  const existing = servers.get(key);
  if (existing) return existing;
  const server = createServer({ requestTimeout: requestTimeoutMs, headersTimeout: 10_000, keepAliveTimeout: 5_000 });
  const entry: SharedServer = { key, server, routes: new Map(), listening: Promise.resolve(), sockets: new Set() };
  server.on('request', (req, res) => dispatch(entry, req, res));
  server.on('connection', (socket: Socket) => {
    // DESIGN.md: Nagle against delayed ACKs adds tens of ms to every small answer.
    socket.setNoDelay(true);
    entry.sockets.add(socket);
    socket.once('close', () => entry.sockets.delete(socket));
  });
  entry.listening = new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (servers.get(key) === entry) servers.delete(key);
      const why = err.code === 'EADDRINUSE' ? 'the address is in use by another program' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message;
      reject(new GuardpostError(err.code === 'EADDRINUSE' ? ErrorCode.PortInUse : ErrorCode.ConfigInvalid, `cannot listen on ${host}:${port} for plate cameras: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      server.on('error', (err) => log.error({ err, listen: key }, 'plate camera HTTP server error'));
      log.info({ listen: key }, 'plate camera HTTP server listening');
      resolve();
    });
  });
  servers.set(key, entry);
  return entry;
}

/**
 * Puts a device's path on the shared server for host:port, starting the server for the first device.
 * Resolves once the server listens; rejects if it cannot, or if another device already has this path.
 * The returned function takes the path off again and closes the server after its last device.
 */
export async function attachRoute(host: string, port: number, path: string, handler: RouteHandler, log: Logger): Promise<() => Promise<void>> {
  const key = `${host}:${port}`;
  const entry = await open(key, host, port, log);
  if (entry.routes.has(path)) throw new GuardpostError(ErrorCode.ConfigInvalid, `two plate cameras on ${key} share the path ${path}`);
  entry.routes.set(path, handler);
  try {
    await entry.listening;
  } catch (err) {
    entry.routes.delete(path);
    throw err;
  }
  let attached = true;
  return async () => {
    if (!attached) return;
    attached = false;
    if (entry.routes.get(path) === handler) entry.routes.delete(path);
    if (entry.routes.size > 0 || servers.get(key) !== entry) return;
    servers.delete(key);
    const done = new Promise<void>((resolve) => {
      entry.server.close(() => resolve());
      // Keep-alive connections from cameras would hold close() open for their idle timeout.
      for (const socket of entry.sockets) socket.destroy();
    }).finally(() => {
      if (closing.get(key) === done) closing.delete(key);
      log.info({ listen: key }, 'plate camera HTTP server closed');
    });
    closing.set(key, done);
    await done;
  };
}

/** Listen addresses with a server up, for tests and `guardpost doctor`. */
export function listeningAddresses(): string[] {
  return [...servers.keys()];
}
