#!/usr/bin/env bash
# Install everything (tools/install.sh --test), then lint and run the whole test suite.
# Arguments go to pytest, e.g. tools/install-and-test.sh -m "not slow" -x
# Fails when ruff finds errors, when a test fails, and when pytest collects no tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash "$root/tools/install.sh" --test

# GUI tests never need a display.
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

echo "== ruff check ."
ruff_status=0
"$root/.venv/bin/ruff" check . || ruff_status=$?

echo "== pytest"
test_status=0
"$root/.venv/bin/python" -m pytest "$@" || test_status=$?

if ((ruff_status != 0)); then
    echo "FAILED: ruff check found errors (see above)" >&2
fi
if ((test_status == 5)); then
    echo "FAILED: pytest collected no tests" >&2
fi
if ((test_status != 0)); then
    exit "$test_status"
fi
exit "$((ruff_status != 0))"
