// Sends a file with HTTP range requests (RFC 9110 §14): what <video> needs to seek in a clip.
import { createReadStream, statSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, GuardpostError } from '../core/errors.js';

export function sendFile(request: FastifyRequest, reply: FastifyReply, path: string, type: string, downloadName?: string): FastifyReply {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new GuardpostError(ErrorCode.NotFound, 'that file is gone (deleted by retention or never written)');
  }
  reply.header('accept-ranges', 'bytes').type(type).header('cache-control', 'private, no-store');
  if (downloadName) reply.header('content-disposition', `attachment; filename="${downloadName.replace(/[^\w.-]/g, '_')}"`);
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  if (!request.headers.range || !range || (range[1] === '' && range[2] === '')) {
    return reply.header('content-length', size).send(createReadStream(path));
  }
  // bytes=a-b, bytes=a- (to the end) or bytes=-n (the last n bytes).
  let start = range[1] === '' ? size - Number(range[2]) : Number(range[1]);
  let end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
  start = Math.max(0, start);
  if (start > end || start >= size) {
    return reply.status(416).header('content-range', `bytes */${size}`).send();
  }
  end = Math.max(start, end);
  return reply
    .status(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', end - start + 1)
    .send(createReadStream(path, { start, end }));
}
