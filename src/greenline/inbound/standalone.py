"""The inbound processor in a process of its own, next to the web processes of `greenline serve`.

Applying events is Python work. On a thread inside a web process it shares that process's GIL with
the event loop, and every webhook answer waits behind it: at 2,000 status webhooks/s the answers'
p99 was 59 ms with the processor on a thread in each web worker, 12 ms with it in its own process
(bench/inbound_webhooks.py, same machine, same code otherwise). So on PostgreSQL in embedded mode,
`serve` starts one processor process and tells the web processes (`inbound_processor = "process"`)
to only store events. Nothing needs to wake it: it polls every GATHER_SECONDS, a probe of the
unprocessed-events index, which is also how long a burst gathers before it is applied.

The supervisor restarts the process if it dies (after a pause if it keeps dying) and stops it with
the server; the process also exits by itself when its parent is gone. Events are claimed with SKIP
LOCKED, so a restarted or second processor never applies one twice. Scale mode does not use this:
Celery workers consume the `inbound` queue.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import structlog

from greenline.config import Settings

log = structlog.get_logger(__name__)

RESTART_PAUSE_SECONDS = 5.0  # before restarting a process that died within this long of starting
STOP_TIMEOUT_SECONDS = 15.0


def uses_processor_process(settings: Settings) -> bool:
    """Embedded mode on PostgreSQL: several processes may share the database safely (SQLite has one writer)."""
    return settings.is_postgres and not settings.scale_mode


def run(settings: Settings, parent_pid: int) -> None:
    """The process's body: apply stored events until told to stop or orphaned."""
    from greenline.core.logging import configure_logging
    from greenline.inbound.service import GATHER_SECONDS, Processor
    from greenline.usage.service import start_meter_pusher
    from greenline.wiring import make_runtime

    configure_logging(settings.log_level, settings.log_json)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)  # Ctrl+C reaches the whole process group: stop cleanly
    # Jobs the hooks enqueue (tenant webhooks, opt-out confirmations) run here; schedules stay in the web
    # processes, which also flush the usage this process pushes to the shared counters (PostgreSQL).
    runtime = make_runtime(settings, run_schedules=False)
    stop_pusher = start_meter_pusher(runtime)
    processor = Processor(runtime, idle_wait=GATHER_SECONDS)
    processor.start()
    log.info("inbound.processor_process_started", pid=os.getpid())
    try:
        while not stopping.wait(1.0):
            if os.getppid() != parent_pid:
                log.warning("inbound.processor_orphaned")
                break
    finally:
        processor.stop()
        runtime.runner.stop()  # the jobs its last batch enqueued
        stop_pusher.set()
        runtime.meter.push()
        runtime.close()


class ProcessorProcess:
    """Starts the processor process, restarts it if it dies, stops it on `stop()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._process: BaseProcess | None = None
        self._started_at = 0.0
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="greenline-inbound-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        process = self._context.Process(
            target=run, args=(self.settings, os.getpid()), name="greenline-inbound-processor", daemon=False
        )
        process.start()
        self._process, self._started_at = process, time.monotonic()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            process = self._process
            if process is None or process.is_alive():
                continue
            log.warning("inbound.processor_process_died", exit_code=process.exitcode, pid=process.pid)
            if time.monotonic() - self._started_at < RESTART_PAUSE_SECONDS and self._stop.wait(RESTART_PAUSE_SECONDS):
                return
            self._spawn()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)
        process = self._process
        if process is None:
            return
        if process.is_alive():
            process.terminate()
            process.join(STOP_TIMEOUT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join(5)
