#!/usr/bin/python3
# A third-party RTSP source for tests and benches: Debian's gst-rtsp-server serving moving test patterns.
"""Serves test-pattern streams over RTSP (TCP and UDP) with gst-rtsp-server.

Mounts (each shared between clients, so N clients cost one encoder):
  /main   H.264, --width x --height at --fps, a key frame every second
  /sub    H.264, 320x180 at --fps: the camera's second profile
  /h265   H.265, 320x180: what a browser's MSE cannot play
  /<extra> H.264 like /main, one per --extra name (more cameras from one server)
A camera that changes resolution is this server restarted on the same port with another --width.

Prints "ready <port>" on stdout once listening. With --user/--password every mount needs
RTSP Digest authentication. Runs until killed.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def h264(width, height, fps, pattern):
    return (
        f"( videotestsrc is-live=true pattern={pattern} ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate={max(200, width * height * fps // 20000)} "
        f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def h265(width, height, fps):
    return (
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph265pay name=pay0 pt=96 config-interval=1 )"
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=10)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--extra", action="append", default=[], help="extra mount names served at any size, e.g. cam2")
    a = p.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(a.port))
    mounts = server.get_mount_points()

    def add(path, launch_or_factory):
        if isinstance(launch_or_factory, str):
            f = GstRtspServer.RTSPMediaFactory()
            f.set_launch(launch_or_factory)
        else:
            f = launch_or_factory
        f.set_shared(True)
        if a.user:
            f.add_role_from_structure(
                Gst.Structure.new_from_string("viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")
            )
        mounts.add_factory(path, f)

    add("/main", h264(a.width, a.height, a.fps, "ball"))
    add("/sub", h264(320, 180, a.fps, "smpte"))
    add("/h265", h265(320, 180, a.fps))
    for name in a.extra:
        add(f"/{name}", h264(a.width, a.height, a.fps, "ball"))

    if a.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_digest(a.user, a.password, token)
        # Cameras answer with Digest (RFC 2617), as ONVIF profiles S and T expect of RTSP.
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)

    server.attach(None)
    print(f"ready {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    signal.signal(signal.SIGINT, lambda *_: loop.quit())
    try:
        loop.run()
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
