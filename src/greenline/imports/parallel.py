"""Phone normalisation on worker processes, for large imports.

Parsing and validating a number with phonenumbers costs about 20 µs of pure Python, which is
most of an import's CPU time. For big files the job sends the phone column of each batch to a
small process pool (spawned, never forked from a threaded server) and keeps reading, shaping
and staging the batches before it. Small files, single-CPU machines and processes that may not
have children (Celery's daemonic prefork workers) normalise inline: the result is the same.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import structlog

from greenline.imports.phones import PhoneFields, phone_fields_many
from greenline.imports.reader import Record

log = structlog.get_logger(__name__)

PARALLEL_MIN_ROWS = 100_000
MAX_WORKERS = 2

Phones = list[PhoneFields | str]


@contextmanager
def phone_pool(estimated_rows: int | None) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool when the file is big enough to repay starting one, else None."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if workers < 2 or (estimated_rows or 0) < PARALLEL_MIN_ROWS or multiprocessing.current_process().daemon:
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def with_phones(
    chunks: Iterable[list[Record]], pool: ProcessPoolExecutor | None, phone_index: int, country: str | None
) -> Iterator[tuple[list[Record], Phones | None]]:
    """Each chunk with its phone cells normalised by the pool (None: the caller normalises inline).

    A few chunks stay in flight so the workers parse while this process shapes and stages. If the
    pool breaks (a worker killed, or a host process that cannot spawn), the rest is done inline.
    """
    if pool is None:
        for chunk in chunks:
            yield chunk, None
        return
    active: ProcessPoolExecutor | None = pool
    pending: deque[tuple[list[Record], list[str], Future[Phones]]] = deque()
    for chunk in chunks:
        raws = [cells[phone_index] if phone_index < len(cells) else "" for _, cells in chunk]
        future = None
        if active is not None:
            try:
                future = active.submit(phone_fields_many, raws, country)
            except BrokenProcessPool:
                log.warning("imports.phone_pool_broken")
                active = None
        pending.append((chunk, raws, future or _inline(raws, country)))
        if len(pending) > MAX_WORKERS:
            yield _result(pending.popleft(), country)
    while pending:
        yield _result(pending.popleft(), country)


def _inline(raws: list[str], country: str | None) -> Future[Phones]:
    future: Future[Phones] = Future()
    future.set_result(phone_fields_many(raws, country))
    return future


def _result(entry: tuple[list[Record], list[str], Future[Phones]], country: str | None) -> tuple[list[Record], Phones]:
    chunk, raws, future = entry
    try:
        return chunk, future.result()
    except BrokenProcessPool:
        log.warning("imports.phone_pool_broken")
        return chunk, phone_fields_many(raws, country)
