"""Time from launching `frontdesk` to its first window on screen (target: under 2 s).

Each run starts a fresh process with the real entry point, offscreen, and measures the
wall time until the first window (the operator login) is shown, issuer already listening.
The first run uses an empty data folder (keys are generated); later runs reuse it.

    .venv/bin/python benchmarks/startup.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the launched process: reports when the first window is shown, then closes it.
PROBE = """
import sys
from PySide6.QtCore import QTimer
from app.pages import login

shown_once = login.LoginDialog.showEvent

def shown(self, event):
    shown_once(self, event)
    print("shown", flush=True)
    QTimer.singleShot(0, self.reject)

login.LoginDialog.showEvent = shown
from app.main import main
sys.exit(main(sys.argv[1:]))
"""


def launch(data_dir: Path) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", PROBE, "--data-dir", str(data_dir), "--port", "0", "--admin-port", "0"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "shown":
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError("the app exited before showing a window")
    process.wait(timeout=30)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        first = launch(data_dir)
        later = [launch(data_dir) for _ in range(args.runs)]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"first start (empty data folder): {first:.2f} s")
    print(f"later starts: median {statistics.median(later):.2f} s, max {max(later):.2f} s over {len(later)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
