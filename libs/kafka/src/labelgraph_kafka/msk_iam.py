"""Amazon MSK IAM authentication: SASL/OAUTHBEARER tokens signed with AWS credentials."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka.abc import AbstractTokenProvider
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

# A signer takes the region and returns the token and its expiry in epoch milliseconds.
Signer = Callable[[str], tuple[str, int]]

# Renew this long before expiry, so a token is never sent in its last moments.
RENEW_BEFORE_SECONDS = 60.0


class MskIamTokenProvider(AbstractTokenProvider):  # type: ignore[misc]
    """Hands aiokafka a signed token, reused until shortly before it expires (15 min).

    Signing resolves credentials through botocore's chain (env, profile, SSO, ECS task or
    instance role), which may mean a network call: it runs in a thread, once per token.
    """

    def __init__(self, region: str, sign: Signer = MSKAuthTokenProvider.generate_auth_token,
                 clock: Callable[[], float] = time.time) -> None:
        self._region = region
        self._sign = sign
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at - RENEW_BEFORE_SECONDS:
                token, expiry_ms = await asyncio.to_thread(self._sign, self._region)
                self._token, self._expires_at = token, expiry_ms / 1000
            return self._token

    def __repr__(self) -> str:
        return f"MskIamTokenProvider(region={self._region!r})"
