#!/usr/bin/env bash
# Takes the README's screenshot of the desktop GUI: the UI gallery service, its desktop window under
# Xvfb (no display or GPU needed: Mesa draws in software), one Submit, then a picture of the screen.
# Needs Debian's xvfb, imagemagick and xdotool. Usage: bench/desktop-screenshot.sh [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/desktop-gallery.png}"
port=18181
cargo build -q -p ui-gallery --features desktop --bin ui-gallery --bin ui-gallery-desktop
EASYMLSERVE_LOG=warn EASYMLSERVE_PORT=$port target/debug/ui-gallery &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
xvfb-run -a -s "-screen 0 1280x900x24" bash -c "
  EASYMLSERVE_URL=http://127.0.0.1:$port target/debug/ui-gallery-desktop &
  window=\$!
  sleep 4
  id=\$(xdotool search --sync --name easymlserve | head -1)
  xdotool windowsize \$id 1280 900 windowmove \$id 0 0
  sleep 1
  # Press Submit (below the inputs in the left column, with the gallery's defaults) and wait.
  xdotool mousemove --window \$id 36 756 click 1
  sleep 3
  import -window root '$out'
  kill \$window
"
echo "wrote $out"
