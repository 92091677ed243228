"""The committed contract is what the app serves, and every operation documents itself."""

from __future__ import annotations

import json
from pathlib import Path

from httpx import AsyncClient

CONTRACT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


async def test_committed_contract_matches_the_served_one(client: AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert json.loads(CONTRACT.read_text()) == served, "run `make openapi` and commit openapi/openapi.json"


async def test_every_operation_has_an_id_a_summary_and_documented_errors(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            errors = [s for s in op["responses"] if s.startswith(("4", "5"))]
            if not op.get("operationId") or not op.get("summary") or not errors:
                missing.append(f"{method.upper()} {path}")
            for status in errors:
                content = op["responses"][status].get("content", {})
                if "application/problem+json" not in content or "application/json" in content:
                    missing.append(f"{method.upper()} {path} {status}: not problem+json")
    assert missing == []
