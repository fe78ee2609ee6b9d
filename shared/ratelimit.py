"""Per-client rate limiting of the key-less tip endpoints, without remembering who the clients are.

The client key the caller passes (typically an IP address) is never stored: buckets are keyed by
HMAC-SHA256 under a random secret made per limiter and never written anywhere, truncated to 16
bytes. Nothing in memory, a core dump or a log can be matched against a suspected address without
that secret, and it dies with the process. Buckets idle long enough to be full again are the same
as no bucket, so they are dropped; the table is capped as well, evicting the least recently seen.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from typing import Callable

DEFAULT_MAX_ENTRIES = 100_000


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``rate_per_minute``."""

    def __init__(self, rate_per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 *, max_entries: int = DEFAULT_MAX_ENTRIES):
        if rate_per_minute <= 0 or burst < 1 or max_entries < 1:
            raise ValueError("rate_per_minute, burst and max_entries must be positive")
        self.rate_per_minute = rate_per_minute
        self.burst = burst
        self.max_entries = max_entries
        self._clock = clock
        self._per_second = rate_per_minute / 60.0
        #: After this long untouched, any bucket is full again: as good as absent.
        self._idle_full = burst / self._per_second
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        #: pseudonym (16 bytes) -> [tokens, last update], least recently seen first.
        self._buckets: OrderedDict[bytes, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate_per_minute}/min, burst {self.burst}, {len(self)} clients)"

    def allow(self, client: str) -> tuple[bool, float]:
        """Take a token for ``client``: ``(True, 0.0)``, or ``(False, seconds until the next token)``."""
        pseudonym = hmac.new(self._secret, client.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]
        with self._lock:
            now = self._clock()
            self._evict_idle(now)
            bucket = self._buckets.get(pseudonym)
            if bucket is None:
                tokens = float(self.burst)
            else:
                tokens = min(float(self.burst), bucket[0] + max(0.0, now - bucket[1]) * self._per_second)
                self._buckets.move_to_end(pseudonym)
            if tokens >= 1.0:
                tokens -= 1.0
                allowed, wait = True, 0.0
            else:
                allowed, wait = False, (1.0 - tokens) / self._per_second
            if bucket is None:
                self._buckets[pseudonym] = [tokens, now]
                while len(self._buckets) > self.max_entries:
                    self._buckets.popitem(last=False)
            else:
                bucket[0], bucket[1] = tokens, now
            return allowed, wait

    def _evict_idle(self, now: float) -> None:
        """Drop full-again buckets from the least recently seen end (amortised O(1))."""
        buckets = self._buckets
        while buckets:
            oldest = next(iter(buckets.values()))
            if now - oldest[1] < self._idle_full:
                break
            buckets.popitem(last=False)
