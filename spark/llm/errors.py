"""The gateway's typed errors. Adapters map every vendor failure to one of these."""

from __future__ import annotations


class LLMError(Exception):
    """Base of every gateway error. ``code`` is stable and reaches clients in error frames."""

    code = "provider_error"
    retryable = False  # may another key / another attempt succeed?

    def __init__(self, message: str = "", *, provider: str = "", status: int | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.provider = provider
        self.status = status


class AuthError(LLMError):
    """The key was refused (401/403)."""

    code = "provider_auth"


class RateLimited(LLMError):
    """429 from the provider."""

    code = "provider_rate_limited"
    retryable = True

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ProviderUnavailable(LLMError):
    """5xx, connection refused or reset, DNS failure: the provider could not answer."""

    code = "provider_unavailable"
    retryable = True


class ProviderTimeout(ProviderUnavailable):
    code = "provider_timeout"


class ContentBlocked(LLMError):
    """The provider refused the content (safety filter)."""

    code = "content_blocked"


class BadRequest(LLMError):
    """The provider rejected the request itself (unknown model, context too long...)."""

    code = "provider_bad_request"


class StreamInterrupted(LLMError):
    """The stream broke after it started (dropped connection, malformed data)."""

    code = "stream_interrupted"
    retryable = False


class NoCredentials(LLMError):
    """No usable key for this provider under the user's key mode."""

    code = "no_provider_key"
