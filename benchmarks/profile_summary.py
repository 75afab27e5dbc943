"""Summarize a py-spy `--format raw` profile (collapsed stacks) into shares of the server's CPU.

Self time goes to the innermost Python frame of a sample (time in C code, such as json
encoding or a signature, shows as the Python function that called it). Inclusive time
counts a function or package once per sample it appears in. `issuance.py --profile`
records with `--gil`, so samples are Python CPU time (the user part of the server's CPU).

Run by hand: `python benchmarks/profile_summary.py profile.txt [--cpu-ms 2.6]`.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    @property
    def package(self) -> str:
        """`issuer.<module>` for the project's code, else the top-level package or module."""
        parts = self.file.split("/")
        if parts[0] == "issuer" and len(parts) > 1:
            return "issuer." + ".".join(parts[1:]).removesuffix(".py")
        return parts[0].removesuffix(".py")

    @property
    def name(self) -> str:
        return f"{self.function} ({self.file})"


@dataclass(frozen=True)
class Profile:
    samples: int
    self_by_function: Counter[str]
    self_by_package: Counter[str]
    inclusive_by_package: Counter[str]
    inclusive_by_issuer_function: Counter[str]
    by_phase: Counter[str]


def read_profile(path: Path) -> Profile:
    return summarize(path.read_text(errors="replace").splitlines())


def summarize(lines: Iterable[str]) -> Profile:
    samples = 0
    self_function: Counter[str] = Counter()
    self_package: Counter[str] = Counter()
    inclusive_package: Counter[str] = Counter()
    inclusive_issuer: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(text) for text in stack.split(";")]
        frames = [frame for frame in frames if frame is not None]
        if not frames:
            continue
        samples += count
        leaf = frames[-1]
        self_function[leaf.name] += count
        self_package[leaf.package] += count
        for package in {frame.package for frame in frames}:
            inclusive_package[package] += count
        for name in {frame.name for frame in frames if frame.file.startswith("issuer/")}:
            inclusive_issuer[name] += count
        phases[_phase(frames)] += count
    return Profile(samples, self_function, self_package, inclusive_package, inclusive_issuer, phases)


def _phase(frames: list[Frame]) -> str:
    """Which part of serving a request a sample belongs to: a view of `issuer/web.py`, or around it."""
    for frame in frames:
        if frame.file == "issuer/web.py" and ".<locals>." in frame.function and not frame.function.endswith(".app"):
            return (
                "view "
                + frame.function.rpartition(".<locals>.")[2]
                + (" (admin)" if frame.function.startswith("create_admin_app") else "")
            )
    files = {frame.file for frame in frames}
    functions = {frame.function for frame in frames}
    if "WSGITask.execute" in functions or "ThreadedTaskDispatcher.handler_thread" in functions:
        return "waitress worker, outside the views (WSGI, Flask and Werkzeug dispatch, headers)"
    if files & {"waitress/wasyncore.py", "waitress/server.py", "waitress/channel.py", "waitress/parser.py"}:
        return "waitress I/O thread (select loop, recv/send, request parsing)"
    return "other (including stacks py-spy could not read whole)"


def report(profile: Profile, cpu_ms_per_issuance: float | None = None, top: int = 15) -> str:
    """Tables of shares, and ms per issuance when the user CPU per issuance is given."""
    scale = " (ms: share of the user CPU per issuance)" if cpu_ms_per_issuance else ""
    out = [f"profile: {profile.samples} samples{scale}"]
    sections = (
        ("by request phase", profile.by_phase),
        ("self time by package or module", profile.self_by_package),
        ("inclusive time by package or module", profile.inclusive_by_package),
        ("inclusive time by issuer function", profile.inclusive_by_issuer_function),
        ("self time by function", profile.self_by_function),
    )
    for title, counter in sections:
        out.append(f"  {title}:")
        for name, count in counter.most_common(top):
            share = count / max(profile.samples, 1)
            ms = f"  {share * cpu_ms_per_issuance:6.2f} ms" if cpu_ms_per_issuance else ""
            out.append(f"    {share:6.1%}{ms}  {name}")
    return "\n".join(out)


def as_json(profile: Profile, top: int = 25) -> dict[str, object]:
    def shares(counter: Counter[str]) -> list[dict[str, object]]:
        total = max(profile.samples, 1)
        return [{"name": name, "share": round(count / total, 4)} for name, count in counter.most_common(top)]

    return {
        "samples": profile.samples,
        "by_phase": shares(profile.by_phase),
        "self_by_package": shares(profile.self_by_package),
        "inclusive_by_package": shares(profile.inclusive_by_package),
        "inclusive_by_issuer_function": shares(profile.inclusive_by_issuer_function),
        "self_by_function": shares(profile.self_by_function),
    }


def _frame(text: str) -> Frame | None:
    match = FRAME.match(text.strip())
    if match is None:
        return None
    return Frame(match.group("function"), match.group("file"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--cpu-ms", type=float, help="server user CPU ms per issuance, to turn shares into ms")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(report(read_profile(args.profile), args.cpu_ms, args.top))


if __name__ == "__main__":
    main()
