"""The issuance benchmark side by side with two other issuers, and the drift over one server's life.

`--kit` runs the peers kit (`side-by-side.sh`: the same oid4vc-ts load generator against this
issuer and two in-memory issuers, one run) and, with `--write`, puts its table into
docs/benchmarks.md between the `side-by-side` markers. `--drift` starts one server and runs
`--rounds` rounds of the kit's load generator against it, printing each round's server CPU per
issuance and nonce p50, and the last round's CPU over the first's.

    .venv/bin/python benchmarks/side_by_side.py --kit [--write] [--wallets 8 --seconds 15 --rounds 3]
    .venv/bin/python benchmarks/side_by_side.py --drift [--wallets 8 --seconds 12 --rounds 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT = Path(os.environ.get("PEERS_KIT", ROOT.parent / "shared" / "peers"))
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- side-by-side -->", "<!-- /side-by-side -->"
NONCE = "nonce"


def run_kit(wallets: int, seconds: int, rounds: int) -> str:
    script = KIT / "side-by-side.sh"
    if not script.exists():
        sys.exit(f"no peers kit at {KIT} (set PEERS_KIT)")
    done = subprocess.run(
        ["bash", str(script), str(ROOT), str(wallets), str(seconds), str(rounds)],
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout, end="")
    if done.returncode != 0 or "best peer" not in done.stdout:
        sys.exit(f"the kit failed: {done.stderr.strip()[-300:]}")
    return done.stdout


def write_table(output: str, wallets: int, seconds: int, rounds: int) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(line for line in output.splitlines() if not line.startswith("raw results"))
    block = (
        f"{BEGIN}\nMeasured {stamp}, `side-by-side.sh . {wallets} {seconds} {rounds}`:\n\n```text\n{table}\n```\n{END}"
    )
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## Side by side with other issuers\n\n{block}\n"
    DOC.write_text(text, encoding="utf-8")
    print(f"written to {DOC}")


def drift(wallets: int, seconds: int, rounds: int) -> None:
    """Rounds against one server: CPU per issuance and nonce p50 per round."""
    work = Path(os.environ.get("PEERS_WORK", "/tmp/frontdesk-peers"))
    if not (work / "node_modules").exists():
        sys.exit(f"run --kit once first (it prepares {work})")
    sys.path.insert(0, str(ROOT))
    from benchmarks.server_process import ServerProcess

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        server = ServerProcess(ROOT / ".venv" / "bin" / "frontdesk-issuer", data, Path(folder) / "serve.log")
        server.start()
        try:
            environment = {**os.environ, "FRONTDESK_ADMIN": server.admin_url, "FRONTDESK_DATA": str(data)}
            cpus = []
            for number in range(1, rounds + 1):
                out = Path(folder) / f"round-{number}.json"
                subprocess.run(
                    [
                        shutil.which("node") or "node",
                        "load.mjs",
                        *("--base", server.issuer_url, "-c", str(wallets), "-d", str(seconds), "--tx-code"),
                        *("--config-id", "employee_badge", "--offer-module", "./offers/frontdesk.mjs"),
                        *("--server-pid", str(server.pid), "--out", str(out)),
                    ],
                    cwd=work,
                    env=environment,
                    capture_output=True,
                    check=True,
                )
                result = json.loads(out.read_text())
                cpu = result["server_cpu_ms_per_issuance"]
                cpus.append(cpu)
                print(
                    f"round {number}: {result['issuances_ok']:6d} issuances, {cpu:6.2f} ms CPU per issuance,"
                    f" nonce p50 {result['steps_ms'][NONCE]['p50']:6.1f} ms, failed {result['issuances_failed']}"
                )
            print(
                f"last round / first round: x{cpus[-1] / cpus[0]:.2f}; highest / lowest: x{max(cpus) / min(cpus):.2f}"
            )
            print(f"server peak RSS: {server.peak_rss_mib():.1f} MiB")
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--kit", action="store_true")
    mode.add_argument("--drift", action="store_true")
    parser.add_argument("--write", action="store_true", help="put the kit's table into docs/benchmarks.md")
    parser.add_argument("--wallets", type=int, default=8)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    if args.kit:
        seconds, rounds = args.seconds or 15, args.rounds or 3
        output = run_kit(args.wallets, seconds, rounds)
        if args.write:
            write_table(output, args.wallets, seconds, rounds)
    else:
        drift(args.wallets, args.seconds or 12, args.rounds or 5)


if __name__ == "__main__":
    main()
