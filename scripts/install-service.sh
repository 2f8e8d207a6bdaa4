#!/usr/bin/env bash
# Installs guardpost from this checkout as a systemd service: user, code in /opt, config in /etc.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"

id guardpost >/dev/null 2>&1 || useradd --system --home-dir /var/lib/guardpost --shell /usr/sbin/nologin --groups dialout guardpost
install -d -m 0755 /opt/guardpost /etc/guardpost
cp -a "$src/package.json" "$src/package-lock.json" "$src/dist" "$src/config" "$src/gateway" "$src/node_modules" "$src/README.md" /opt/guardpost/
if [ ! -f /etc/guardpost/site.yaml ]; then
  install -m 0640 -g guardpost "$src/config/examples/site.yaml" /etc/guardpost/site.yaml
  echo "edit /etc/guardpost/site.yaml for this site, then: systemctl restart guardpost" >&2
fi
install -m 0644 "$src/systemd/guardpost.service" /etc/systemd/system/guardpost.service
systemctl daemon-reload
systemctl enable --now guardpost
systemctl --no-pager status guardpost || true
