#!/usr/bin/env bash
# Installs the kiosk on a Debian 12 kiosk PC: a system user, the code under /opt/kiosk,
# configuration under /etc/kiosk, state under /var/lib/kiosk, the systemd units and udev rules.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }

bash "$src/scripts/setup-system.sh"
id kiosk >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/kiosk --shell /usr/sbin/nologin kiosk
install -d -o kiosk -g kiosk -m 0750 /var/lib/kiosk
install -d -m 0755 /etc/kiosk /opt/kiosk
rsync -a --delete --exclude .venv --exclude .git --exclude var "$src/" /opt/kiosk/
[ -x /opt/kiosk/.venv/bin/python ] || python3 -m venv /opt/kiosk/.venv
/opt/kiosk/.venv/bin/pip install --quiet /opt/kiosk
[ -f /etc/kiosk/kiosk.yaml ] || install -m 0640 -g kiosk "$src/config/example-site.yaml" /etc/kiosk/kiosk.yaml
install -m 0644 "$src/systemd/kiosk.service" "$src/systemd/kiosk-central.service" \
    "$src/systemd/kiosk-fleet.service" /etc/systemd/system/
# The kiosk's own key (0600, the kiosk user only); its public half goes into the site's registries.
runuser -u kiosk -- /opt/kiosk/.venv/bin/kiosk keys new --config /etc/kiosk/kiosk.yaml 2>/dev/null || true
install -m 0644 "$src/systemd/99-kiosk-devices.rules" /etc/udev/rules.d/
udevadm control --reload-rules || true
systemctl daemon-reload
systemctl enable kiosk.service
echo "Installed. Edit /etc/kiosk/kiosk.yaml, enroll this kiosk's key (kiosk keys show --config"
echo "/etc/kiosk/kiosk.yaml) with central and the fleet, set the technician PIN (kiosk maintenance"
echo "set-pin --config /etc/kiosk/kiosk.yaml), then: systemctl start kiosk"
