#!/usr/bin/env bash
# Why this exists: runs the scikit-learn reference (sklearn_reference.py) in a virtualenv made from
# PyPI inside this example (.venv, git-ignored). Arguments go to the script, e.g. `--svr-full`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
"$venv/bin/python" --version
"$venv/bin/python" -c "import sklearn; print('scikit-learn', sklearn.__version__)"
exec "$venv/bin/python" "$here/sklearn_reference.py" "$@"
