#!/usr/bin/env bash
# Writes the README's screenshots (issue 18 item 7) into docs/screenshots/: the browser tests of the
# forecasting, segmentation and gallery pages, and the egui_kittest tests of their desktop windows
# (desktop-*.png, drawn on the CPU by the testkit's raster.rs), take each in the light and the dark
# theme on every run and check the pictures; with EASYMLSERVE_SCREENSHOTS set they also write them
# (compact RGB PNGs, see crates/easymlserve-testkit/src/screenshots.rs; the gallery test also rewrites
# docs/ui-gallery.png, as it did before). A plain test run, as in CI, writes nothing.
# Needs what those tests need (Chromium, chromedriver, cargo-nextest; scripts/test installs them).
# Usage: scripts/screenshots.sh        then look at `git status docs/screenshots` and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
EASYMLSERVE_SCREENSHOTS=1 cargo nextest run --workspace --all-features \
    -E 'test(upload_a_month_choose_models_and_see_forecasts_and_errors) | test(uploading_the_tiff_shows_the_cells) | test(every_component_round_trips_through_the_page) | binary_id(easymlserve-desktop::screenshots) | test(the_desktop_window_segments_the_tiff)'
ls -l docs/screenshots/
