#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the Debian packages guardpost's tests and recorder need.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v udevadm >/dev/null 2>&1 || need+=(udev)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The Modbus tests talk to a third-party RTU slave: pymodbus, for Debian's own python3.
/usr/bin/python3 -c 'import pymodbus, serial' >/dev/null 2>&1 || need+=(python3-pymodbus python3-serial)
# Recording is tested against a third-party RTSP source: gst-rtsp-server (python3-gi works with /usr/bin/python3 only).
/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); gi.require_version("Gst", "1.0"); from gi.repository import Gst; Gst.init(None); assert Gst.ElementFactory.find("x264enc") and Gst.ElementFactory.find("x265enc") and Gst.ElementFactory.find("videotestsrc")' >/dev/null 2>&1 \
  || need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad)
# Sync to HQ is tested against third-party servers: Mosquitto (with mosquitto_passwd) and a private PostgreSQL cluster, any major version.
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# The touchscreen shows Chinese: without a CJK font Chromium draws boxes.
{ command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -i 'Noto Sans CJK' >/dev/null; } || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "guardpost needs these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
