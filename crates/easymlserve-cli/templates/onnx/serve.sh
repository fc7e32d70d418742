#!/bin/sh
# Serves models/{{model}} over REST, with the inference protocol and a web GUI at /ui/.
# Extra arguments go to `easymlserve serve` (e.g. `--port 9000`, `--workers 2`).
cd "$(dirname "$0")" && exec easymlserve serve models/{{model}} "$@"
