#!/usr/bin/env bash
# Installs the Debian packages the kiosk and its tests need, only those that are missing.
set -euo pipefail
packages=(
  python3-venv           # the project's virtualenv
  xvfb xauth             # a virtual screen for Kivy when there is no display
  libgl1 libgl1-mesa-dri libegl1 libmtdev1 libxrender1 libxi6  # what Kivy's SDL2 window needs
  fonts-noto-cjk fonts-wqy-microhei  # Chinese fonts (Noto has rare name characters)
  libzbar0               # QR decoding (pyzbar)
  socat                  # pty pairs for serial simulators
  swig libpcsclite-dev pcscd  # pyscard builds against PC/SC lite
  vsmartcard-vpcd        # virtual card reader for pcscd (smart card tests and simulation)
  cups cups-client printer-driver-cups-pdf  # A4 printing (tests use a private cupsd)
  postgresql             # the central service is tested on PostgreSQL too
  libusb-1.0-0           # USB receipt printers (pyusb)
  poppler-utils          # pdftotext/pdftoppm: tests read and render certificate PDFs
  librime1 rime-data-pinyin-simp  # pinyin input on the kiosk's own keyboard
  libzinnia0 tegaki-zinnia-simplified-chinese zinnia-utils  # handwriting input (手写)
  espeak-ng sox alsa-utils  # spoken prompts in 长辈模式 (aplay); sox checks WAV files in tests
  wrk                    # HTTP load generator of bench/fleet_heartbeats.py
  chromium               # the fleet dashboard's browser tests (Playwright drives it; nothing downloaded)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
