"""`python openapi/check_typescript.py openapi.json types.ts`: openapi-typescript's output asks for
no field a request body may leave out.

For every schema a request body uses (directly or nested), each property the schema does not
require must be optional (`name?:`) in the generated `components["schemas"]`; openapi-typescript
makes a field with a `default` required unless told otherwise. Exits 1 and names them if not.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from crmapi.kit.contract_bodies import request_schemas


def required_in_typescript(spec: dict[str, Any], typescript: str) -> list[str]:
    wrong = []
    for name in sorted(request_schemas(spec)):
        key = json.dumps(name) if not name.isidentifier() else name
        block = re.search(rf"^ {{8}}{re.escape(key)}: \{{\n(.*?)^ {{8}}\}};$", typescript, re.M | re.S)
        if block is None:
            wrong.append(f"{name}: not in the TypeScript")
            continue
        schema = spec["components"]["schemas"][name]
        for field in set(schema.get("properties", {})) - set(schema.get("required", [])):
            if not re.search(rf"^ {{12}}{re.escape(field)}\?:", block.group(1), re.M):
                wrong.append(f"{name}.{field}")
    return wrong


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    wrong = required_in_typescript(spec, Path(sys.argv[2]).read_text())
    print(f"{len(request_schemas(spec))} request schemas; optional fields the TypeScript requires:")
    print("\n".join(wrong) or "none")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
