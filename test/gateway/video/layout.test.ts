// Footage paths: the UTC layout, staged names, and no request path that leaves the recordings directory.
import { describe, expect, it } from 'vitest';
import { inside, segmentPath, stagedStart } from '../../../gateway/video/layout.js';

describe('footage layout', () => {
  it('lays segments out by camera and UTC date, hour and minute.second', () => {
    expect(segmentPath('cam-1', Date.UTC(2026, 10, 22, 3, 4, 5))).toBe('cam-1/2026-11-22/03/04.05.mp4');
  });

  it('reads the UTC start from a staged name and nothing else', () => {
    expect(stagedStart('20261122T030405.mp4')).toBe(Date.UTC(2026, 10, 22, 3, 4, 5));
    for (const bad of ['20261122T030405.mkv', 'x20261122T030405.mp4', '2026.mp4', '', '../20261122T030405.mp4']) expect(stagedStart(bad)).toBeNull();
  });

  it('resolves paths inside the recordings directory and refuses every way out', () => {
    expect(inside('/data/rec', 'cam/2026-11-22/03/04.05.mp4')).toBe('/data/rec/cam/2026-11-22/03/04.05.mp4');
    for (const bad of ['../guardpost.db', 'cam/../../etc/passwd', '/etc/passwd', 'cam/\0.mp4', '', '.', 'cam/..']) {
      expect(() => inside('/data/rec', bad), bad).toThrow(/not inside the recordings directory/);
    }
  });
});
