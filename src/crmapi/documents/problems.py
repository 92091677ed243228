"""Problem types of the live ERP connector."""

from __future__ import annotations

from crmapi.kit.errors import ProblemError


class ErpTimeout(ProblemError):
    """The organisation's ERP did not answer within the connector's timeout. Ask again later, or
    with `fallback=stored` to read the stored copy when it does not answer."""

    slug = "erp-timeout"
    title = "The ERP did not answer in time"
    status = 504


class ErpUnavailable(ProblemError):
    """The organisation's ERP could not be reached or answered with an error or something other
    than documents. Ask again later, or with `fallback=stored`."""

    slug = "erp-unavailable"
    title = "The ERP did not answer"
    status = 502
