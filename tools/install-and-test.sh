#!/usr/bin/env bash
# Install everything (tools/install.sh --test), then run the checks and the whole test suite.
# Arguments go to pytest, e.g. tools/install-and-test.sh -m "not slow" -x
# The checks, in order: ruff check, ruff format --check, mypy, lint-imports. pytest runs even when
# a check fails, so one log shows everything; the script fails when any check fails, when a test
# fails, and when pytest collects no tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash "$root/tools/install.sh" --test

# GUI tests never need a display.
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

failures=()

# check NAME COMMAND...: run one check, remember it when it fails.
check() {
    local name="$1"
    shift
    echo "== $name"
    "$@" || failures+=("$name")
}

# mypy and lint-imports read their configuration from pyproject.toml ([tool.mypy], [tool.importlinter]).
check "ruff check ." "$root/.venv/bin/ruff" check .
check "ruff format --check ." "$root/.venv/bin/ruff" format --check .
check "mypy" "$root/.venv/bin/mypy"
check "lint-imports" "$root/.venv/bin/lint-imports"

echo "== pytest"
test_status=0
"$root/.venv/bin/python" -m pytest "$@" || test_status=$?

for name in "${failures[@]}"; do
    echo "FAILED: $name found errors (see above)" >&2
done
if ((test_status == 5)); then
    echo "FAILED: pytest collected no tests" >&2
fi
if ((test_status != 0)); then
    exit "$test_status"
fi
exit "$((${#failures[@]} != 0))"
