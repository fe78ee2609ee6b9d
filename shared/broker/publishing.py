"""What every transport's publisher shares: a lazily opened connection per thread, and one
failure rule — any error closes the connection and surfaces as ``PublishError``."""
from __future__ import annotations

from typing import Callable, Sequence

import kombu

from .interfaces import Outgoing, PublishError, release_quietly


class ConnectionPublisher:
    """A publisher over one kombu connection, opened on first use and dropped on any failure
    (the next batch opens a new one). Subclasses send a batch in ``_send``."""

    def __init__(self, connect: Callable[[], kombu.Connection]):
        self._connect = connect
        self._conn: kombu.Connection | None = None

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if not messages:
            return
        try:
            self._send(messages)
        except PublishError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise PublishError(f"publish failed: {exc!r}") from exc

    def _send(self, messages: Sequence[Outgoing]) -> None:
        raise NotImplementedError

    def _connection(self) -> kombu.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _forget(self) -> None:
        """Drop what the subclass keeps on the connection (it is being closed)."""

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._forget()
        if conn is not None:
            release_quietly(conn)
