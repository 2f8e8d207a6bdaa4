// RTSP response and SDP parsing on answers captured from gst-rtsp-server (test/fixtures/rtsp/), and on garbage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRtspRequest, h264SpsSize, headerOf, headersOf, parseRtspResponse, parseSdp, videoInfo, type RtspResponse } from '../../../drivers/rtsp-camera/rtsp.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';

/** Bytes from a seeded generator: a failure reproduces. */
function junk(random: () => number, maxLength: number): number[] {
  return Array.from({ length: Math.floor(random() * maxLength) }, () => Math.floor(random() * 256));
}

const fixture = (name: string): Buffer => readFileSync(join(packageRoot, 'test', 'fixtures', 'rtsp', name));

function response(buf: Buffer): RtspResponse {
  const parsed = parseRtspResponse(buf);
  if (parsed.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(parsed)}`);
  expect(parsed.rest.length).toBe(0);
  return parsed.response;
}

describe('RTSP responses', () => {
  it('reads an OPTIONS answer', () => {
    const res = response(fixture('options-200.bin'));
    expect(res).toMatchObject({ version: '1.0', status: 200, reason: 'OK' });
    expect(headerOf(res, 'CSeq')).toBe('1');
    expect(headerOf(res, 'public')).toBe('OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN');
    expect(res.body.length).toBe(0);
  });

  it('reads the Digest challenge of a 401 and a 404', () => {
    const challenge = response(fixture('describe-401.bin'));
    expect(challenge.status).toBe(401);
    expect(headersOf(challenge, 'www-authenticate')).toEqual([expect.stringMatching(/^Digest realm="GStreamer RTSP Server", nonce="[0-9a-f]+"$/)]);
    expect(response(fixture('describe-404.bin'))).toMatchObject({ status: 404, reason: 'Not Found' });
  });

  it('reads a DESCRIBE answer with its SDP body by Content-Length', () => {
    const res = response(fixture('describe-main-200.bin'));
    expect(headerOf(res, 'content-type')).toBe('application/sdp');
    expect(res.body.length).toBe(Number(headerOf(res, 'content-length')));
    expect(res.body.toString().startsWith('v=0\r\n')).toBe(true);
  });

  it('waits for the rest of an answer arriving in pieces, at every split point', () => {
    const whole = fixture('describe-main-200.bin');
    for (let cut = 0; cut < whole.length; cut++) expect(parseRtspResponse(whole.subarray(0, cut)).kind, `cut at ${cut}`).toBe('incomplete');
    const two = Buffer.concat([whole, fixture('options-200.bin')]);
    const first = parseRtspResponse(two);
    expect(first.kind).toBe('response');
    if (first.kind === 'response') expect(response(first.rest).status).toBe(200);
  });

  it('refuses what is not RTSP with a reason, never a throw', () => {
    expect(parseRtspResponse(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toEqual({ kind: 'error', reason: 'not an RTSP response (starts "HTTP/1.1 400 Bad")' });
    expect(parseRtspResponse(Buffer.from('RTSP/1.0 2000 OK\r\n\r\n'))).toEqual({ kind: 'error', reason: 'bad status line "RTSP/1.0 2000 OK"' });
    expect(parseRtspResponse(Buffer.from('RTSP/1.0 200 OK\r\nno colon here\r\n\r\n'))).toEqual({ kind: 'error', reason: 'bad header line "no colon here"' });
    expect(parseRtspResponse(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n'))).toEqual({ kind: 'error', reason: 'bad Content-Length "-5"' });
    expect(parseRtspResponse(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n'))).toEqual({ kind: 'error', reason: 'body of 99999999 bytes is over 65536' });
    expect(parseRtspResponse(Buffer.concat([Buffer.from('RTSP/1.0 200 OK\r\nX: '), Buffer.alloc(20_000, 0x61)]))).toEqual({ kind: 'error', reason: 'header block over 16384 bytes' });
    const random = prng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(junk(random, 200));
      const buf = i % 2 === 0 ? Buffer.concat([Buffer.from('RTSP/1.0 200 OK\r\n'), bytes, Buffer.from('\r\n\r\n')]) : bytes;
      expect(['incomplete', 'response', 'error']).toContain(parseRtspResponse(buf).kind);
    }
  });

  it('builds requests with CRLF lines and refuses a header value with a line break', () => {
    expect(buildRtspRequest('DESCRIBE', 'rtsp://127.0.0.1:554/main', 2, { Accept: 'application/sdp' }).toString()).toBe('DESCRIBE rtsp://127.0.0.1:554/main RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n');
    expect(() => buildRtspRequest('DESCRIBE', 'rtsp://h/x', 1, { Authorization: 'Digest x\r\nInjected: 1' })).toThrow(/line break/);
  });
});

describe('SDP', () => {
  const sdpOf = (name: string) => {
    const parsed = parseSdp(response(fixture(name)).body.toString());
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.sdp;
  };

  it('finds H.264 with its frame rate and, from the SPS, its picture size', () => {
    const main = sdpOf('describe-main-200.bin');
    expect(main.sessionName).toBe('Session streamed with GStreamer');
    expect(main.media).toHaveLength(1);
    expect(main.media[0]).toMatchObject({ type: 'video', protocol: 'RTP/AVP', formats: ['96'], rtpmap: { '96': { encoding: 'H264', clockRate: 90000 } }, control: 'stream=0', framerate: 10 });
    expect(videoInfo(main)).toEqual({ codec: 'h264', fps: 10, width: 640, height: 360 });
    expect(videoInfo(sdpOf('describe-sub-200.bin'))).toEqual({ codec: 'h264', fps: 10, width: 320, height: 180 });
  });

  it('tells H.265 from H.264', () => {
    expect(videoInfo(sdpOf('describe-h265-200.bin'))).toEqual({ codec: 'h265', fps: 10 });
  });

  it('knows static JPEG and other encodings, and survives garbage', () => {
    const jpeg = parseSdp('v=0\r\ns=cam\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n');
    expect(jpeg.ok && videoInfo(jpeg.sdp)).toEqual({ codec: 'mjpeg' });
    const audioOnly = parseSdp('v=0\nm=audio 0 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n');
    expect(audioOnly.ok && videoInfo(audioOnly.sdp)).toEqual({});
    expect(parseSdp('<html>')).toEqual({ ok: false, reason: 'SDP does not start with v=0' });
    expect(parseSdp('v=0\r\nm=video\r\n')).toEqual({ ok: false, reason: 'bad media line "m=video"' });
    expect(parseSdp('v=0\r\nwhat\r\n')).toEqual({ ok: false, reason: 'bad SDP line "what"' });
    // A broken SPS gives no size rather than a wrong one.
    expect(h264SpsSize(Buffer.from([0x67, 0x42]))).toBeNull();
    expect(h264SpsSize(Buffer.from([0x68, 0xce, 0x3c, 0x80]))).toBeNull();
    const random = prng(11);
    for (let i = 0; i < 500; i++) {
      const size = h264SpsSize(Buffer.from([0x67, ...junk(random, 30)]));
      if (size) expect(size.width > 0 && size.height > 0).toBe(true);
    }
  });
});
