// The demo site with two RTSP cameras on a real RTSP source (gst-rtsp-server), for the video screen tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { demoYaml } from '../../helpers/config.js';
import { startGateway, tempDir, type RunningGateway } from '../../helpers/gateway.js';
import { startRtspSource, type RtspSource } from '../../video/rtsp.js';

export interface VideoSite {
  gw: RunningGateway;
  rtsp: RtspSource;
  /** A session token for a demo person. */
  token(personId: string, pin: string): Promise<string>;
  api<T>(path: string, token: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/**
 * cam-north looks at the north entry (its decisions get a picture) and cam-garage at the garage checkpoint
 * (its incidents do). cam-north's sub-stream is the moving ball pattern, so its live tile visibly moves.
 */
export function videoYaml(port: number, opts: SiteOptions = {}): string {
  const cameras = [
    '  cam-north:',
    '    type: rtsp',
    '    kind: camera',
    '    name: 北门摄像机',
    `    main_url: rtsp://127.0.0.1:${port}/main`,
    `    sub_url: rtsp://127.0.0.1:${port}/cam2`,
    '  cam-garage:',
    '    type: rtsp',
    '    kind: camera',
    '    name: 车库摄像机',
    `    main_url: rtsp://127.0.0.1:${port}/cam2`,
    `    sub_url: rtsp://127.0.0.1:${port}/cam3`,
    ...(opts.h265
      ? ['  cam-h265:', '    type: rtsp', '    kind: camera', '    name: 东门摄像机', `    main_url: rtsp://127.0.0.1:${port}/h265`, `    sub_url: rtsp://127.0.0.1:${port}/h265`]
      : []),
    ...(opts.onvif
      ? ['  cam-ptz:', '    type: onvif', '    kind: camera', '    name: 停车场球机', '    host: 127.0.0.1', `    port: ${opts.onvif.port}`, `    username: ${opts.onvif.username}`, `    password: ${opts.onvif.password}`]
      : []),
    '',
  ].join('\n');
  const video = [
    '',
    'video:',
    '  segment_s: 2',
    // A test machine's disk is small: no floor, or retention would hold the recorders back.
    '  min_free_gb: 0',
    '  cameras:',
    '    cam-north:',
    '      links: [north-in]',
    '    cam-garage:',
    '      links: [garage]',
    '',
  ].join('\n');
  expect(demoYaml).toContain('\ndevices:\n');
  return demoYaml.replace('\ndevices:\n', `\ndevices:\n${cameras}`) + video;
}

export interface SiteOptions {
  /** A third camera that sends only H.265: the wall shows it through the MPEG-1 fallback. */
  h265?: boolean;
  /** An ONVIF camera with PTZ (a test peer already listening on `port`) as cam-ptz. */
  onvif?: { port: number; username: string; password: string };
  /** The RTSP source to use (the caller stops it); one is started otherwise. */
  rtsp?: RtspSource;
}

export async function startVideoSite(opts: SiteOptions = {}): Promise<VideoSite> {
  const own = !opts.rtsp;
  const rtsp = opts.rtsp ?? (await startRtspSource({ extra: ['cam2', 'cam3'], width: 640, height: 360 }));
  let gw: RunningGateway;
  try {
    const dir = tempDir('gp-video-edge-');
    const config = join(dir, 'site.yaml');
    writeFileSync(config, videoYaml(rtsp.port, opts));
    gw = await startGateway({ config, dataDir: dir });
  } catch (err) {
    if (own) await rtsp.stop();
    throw err;
  }
  const api = async <T>(path: string, token: string, init: RequestInit = {}) => {
    const res = await fetch(`${gw.httpUrl}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    gw,
    rtsp,
    api,
    async token(personId, pin) {
      const res = await fetch(`${gw.httpUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ personId, pin }) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    },
    async stop() {
      await gw.stop();
      if (own) await rtsp.stop();
    },
  };
}
