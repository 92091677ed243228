"""Log lines are JSON, one a line, with the time, level, logger, message and the fields a call adds."""

from __future__ import annotations

import json
import logging
import re

from crmapi.kit.logs import JsonFormatter


def test_a_line_is_json_with_its_fields_and_a_time_to_the_second() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("crmapi.access", logging.INFO, __file__, 1, "GET %s %s", ("/livez", 200), None)
    record.fields = {"status": 200, "ms": 0.4}
    line = json.loads(formatter.format(record))
    assert line | {"at": None} == {
        "at": None,
        "level": "info",
        "logger": "crmapi.access",
        "message": "GET /livez 200",
        "status": 200,
        "ms": 0.4,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", line["at"])
    # The time is formatted once a second: a second record in the same second shares it.
    again = logging.LogRecord("crmapi.access", logging.INFO, __file__, 1, "x", (), None)
    again.created = record.created
    assert json.loads(formatter.format(again))["at"] == line["at"]
