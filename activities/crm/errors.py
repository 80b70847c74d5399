"""How a vendor's answer maps onto Temporal's retry: a rate limit waits for its
`Retry-After`, a refusal that no retry can fix is permanent, anything else is retried
with the activity's backoff."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError


class PermanentCrmError(Exception):
    """The CRM refused for good (a missing record, a bad field, no permission)."""


class CrmNotFound(PermanentCrmError):
    pass


def retry_after_seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default  # an HTTP date: rare from these APIs; the default backoff is safe


def rate_limited(vendor: str, seconds: float) -> ApplicationError:
    """A retryable failure whose next attempt is `seconds` away (Retry-After), whatever
    the retry policy's own backoff says."""
    return ApplicationError(f"{vendor} rate limit: retry after {seconds:g} s", type="rate_limited",
                            next_retry_delay=timedelta(seconds=seconds))
