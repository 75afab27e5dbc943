"""The application's name, identifiers and version, for every installer recipe.

The names come from `resources/app.json`, the version from `issuer.__version__` (the single
source, also read by pyproject.toml). The spec file imports this module; the build scripts
run it: `python packaging/appinfo.py version` prints one field, without a field it prints
them all as JSON.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def version() -> str:
    """`__version__` from issuer/__init__.py, read without importing the package."""
    module = ast.parse((ROOT / "issuer" / "__init__.py").read_text(encoding="utf-8"))
    for node in module.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise LookupError("issuer/__init__.py does not set __version__")


def load() -> dict[str, Any]:
    info: dict[str, Any] = json.loads((ROOT / "resources" / "app.json").read_text(encoding="utf-8"))
    info["version"] = version()
    return info


def main(argv: list[str]) -> int:
    info = load()
    if not argv:
        print(json.dumps(info, indent=2))
        return 0
    if len(argv) != 1 or argv[0] not in info:
        print(f"usage: appinfo.py [{'|'.join(info)}]", file=sys.stderr)
        return 2
    print(info[argv[0]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
