"""The load generator of ``e2e.py``: a few processes, asyncio, raw HTTP/1.1 keep-alive connections,
filing realistic reports with one region key per region."""
from __future__ import annotations

import asyncio
import time


def request_templates(keys: dict[str, str], port: int, entries: int) -> list[bytes]:
    """Raw HTTP/1.1 requests, one per (region, year), bodies as a region would send them."""
    import orjson

    from shared.clock import SystemClock
    from shared.reference import default_reference
    from shared.testing.data import report

    reference = default_reference()
    current = reference.calendar.business_date(SystemClock().now()).year
    templates = []
    for year in range(reference.calendar.first_year, current + 1):
        for region, key in keys.items():
            body = orjson.dumps(report(region, year, entries=entries, zero=entries == 0))
            head = (f"POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            templates.append(head + body)
    return templates


def load_process(index: int, port: int, templates: list[bytes], connections: int, rate: float, start_at: float,
                 end_at: float, out_path: str) -> None:
    """Until ``end_at`` (wall clock), file reports over ``connections`` keep-alive connections,
    paced at ``rate`` requests/s if > 0; writes one line per request: sid t_send t_recv status."""
    asyncio.run(_load(index, port, templates, connections, rate, start_at, end_at, out_path))


async def _load(index, port, templates, connections, rate, start_at, end_at, out_path):
    results: list[tuple] = []
    counter = [index * 7919]
    slot = [0]

    async def one_connection() -> None:
        reader = writer = None
        while True:
            if rate > 0:
                due = start_at + slot[0] / rate
                slot[0] += 1
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            if time.time() >= end_at:
                break
            request = templates[counter[0] % len(templates)]
            counter[0] += 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                sent = time.time()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                received = time.time()
                sid = "-"
                if status == 202:
                    start = body.index(b'"submission_id"')
                    sid = body[body.index(b'"', start + 16) + 1:].split(b'"', 1)[0].decode()
                results.append((sid, sent, received, status))
                if b"connection: close" in head.lower():
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, ValueError):
                results.append(("-", time.time(), time.time(), 0))
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
        if writer is not None:
            writer.close()

    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    with open(out_path, "w") as out:
        for sid, sent, received, status in results:
            out.write(f"{sid} {sent:.6f} {received:.6f} {status}\n")
