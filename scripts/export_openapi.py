"""Write Greenline's OpenAPI document for the dashboard's generated client (web/src/client).

Usage: .venv/bin/python scripts/export_openapi.py [OUTPUT]   (default: web/openapi.json)

FastAPI's default operation ids (`list_contacts_api_v1_contacts__get`) would become unreadable function
names in the generated SDK, so each operation is renamed after its endpoint function (`list_contacts`),
prefixed with its tag only where two endpoints share a function name (`whatsapp_logout`).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "web" / "openapi.json"


def _endpoint_name(operation_id: str, path: str, method: str) -> str:
    """FastAPI's default id is `{function}{path}_{method}` with non-word characters as underscores."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id.removesuffix(suffix) if operation_id.endswith(suffix) else operation_id


def build_document() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from greenline.app import create_app
    from greenline.config import Settings

    document = create_app(Settings(database_url="sqlite://")).openapi()
    operations = [
        (operation, _endpoint_name(operation["operationId"], path, method))
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    names = Counter(name for _, name in operations)
    for operation, name in operations:
        tag = operation.get("tags", ["api"])[0]
        operation["operationId"] = name if names[name] == 1 else f"{tag}_{name}"
    return document


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    output.write_text(json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
