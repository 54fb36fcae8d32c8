"""Failure counting per address without keeping addresses: an HMAC of the address under a key that
changes every hour, held in memory only, never written or logged."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import deque


class FailureLimiter:
    def __init__(self, *, allowed: int, window_seconds: int) -> None:
        self._allowed = allowed
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._key = secrets.token_bytes(32)
        self._key_hour = self._hour()

    @staticmethod
    def _hour() -> int:
        return int(time.time() // 3600)

    def _bucket(self, address: str) -> str:
        hour = self._hour()
        if hour != self._key_hour:
            # A new key every hour: yesterday's buckets cannot be linked to today's addresses.
            self._key, self._key_hour, self._failures = secrets.token_bytes(32), hour, {}
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()

    def _recent(self, bucket: str, now: float) -> deque[float]:
        times = self._failures.setdefault(bucket, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[bucket]
            return deque()
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds to wait before this address may try again, or None when it may try now."""
        now = time.monotonic()
        times = self._recent(self._bucket(address), now)
        if len(times) < self._allowed:
            return None
        return max(1, math.ceil(times[0] + self._window - now))

    def fail(self, address: str) -> None:
        bucket = self._bucket(address)
        self._failures.setdefault(bucket, deque()).append(time.monotonic())
