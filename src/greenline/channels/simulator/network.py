"""The simulated WhatsApp network: one per process, shared by every simulator number.

`accept` is the synchronous half of a send (checks in the order of facts §8.1, then a planned fate); a
scheduler replays the planned steps as Cloud API webhook payloads handed to `emit`, either on a daemon thread
(`start`/`stop`) or when tests call `run_due`/`advance` with a `ManualClock`. A payload whose `emit` raises is
kept and offered again on the next run, as Meta retries webhooks (§2.7).
"""

from __future__ import annotations

import datetime as dt
import enum
import heapq
import random
import threading
from collections.abc import Callable
from typing import Any, Literal

import structlog

from greenline.channels.base import MessageKind, OutboundMessage, SendError, SendResult
from greenline.channels.simulator import payloads
from greenline.channels.simulator.clock import Clock, ManualClock, SimClock, to_datetime, to_seconds
from greenline.channels.simulator.flights import Flight, plan, replay
from greenline.channels.simulator.params import SimulatorParams
from greenline.channels.simulator.recipients import digits, traits_for
from greenline.channels.simulator.state import NumberState, NumberStatus

log = structlog.get_logger(__name__)

Emit = Callable[[dict[str, Any]], None]
PRUNE_EVERY = 10_000  # accepts between sweeps of expired per-recipient state
MAX_RETAINED_PAYLOADS = 10_000


class _Default(enum.Enum):
    token = 0


DEFAULT: Literal[_Default.token] = _Default.token


class SimulatedNetwork:
    """A seeded, deterministic model of WhatsApp's Cloud API for any number of business numbers."""

    def __init__(self, params: SimulatorParams | None = None, *, emit: Emit | None = None, clock: Clock | None = None):
        self.params = params or SimulatorParams()
        self.clock: Clock = clock or SimClock(self.params.speed)
        self.emit = emit
        self._lock = threading.RLock()
        self._emit_lock = threading.Lock()
        self._rng = random.Random(self.params.seed)  # noqa: S311 - a reproducible simulation, not security
        self._ids = random.Random(f"wamid:{self.params.seed}")  # noqa: S311 - ids only need to look real
        self._numbers: dict[str, NumberState] = {}
        self._heap: list[tuple[float, int, Flight]] = []
        self._builders: dict[str, payloads.PayloadBuilder] = {}  # replayed steps not yet emitted, per number
        self._seq = 0
        self._capped_until: dict[str, float] = {}  # per-user marketing cap, across businesses (§3.7)
        self._unsent: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- numbers ----------------------------------------------------------------------------------

    def register_number(
        self,
        number_id: str,
        display_number: str,
        *,
        throughput_mps: int | None = None,
        messaging_limit: int | Literal[_Default.token] | None = DEFAULT,
        warmup_started_at: dt.datetime | float | None = None,
        waba_id: str | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        """Add a number, or reconfigure a known one (its counters, feedback and standing are kept)."""
        params = self.params.with_overrides(overrides)
        limit = params.messaging_limit if messaging_limit is _Default.token else messaging_limit
        display = digits(display_number)
        with self._lock:
            now = self.clock.time()
            state = self._numbers.get(number_id)
            if state is None:
                self._numbers[number_id] = NumberState(
                    number_id,
                    display,
                    params,
                    now,
                    waba_id=waba_id or f"1{display}",
                    throughput_mps=throughput_mps,
                    messaging_limit=limit,
                    warmup_started_at=to_seconds(warmup_started_at),
                )
                return
            state.display, state.params, state.messaging_limit = display, params, limit
            state.throughput_mps = throughput_mps or params.throughput_mps
            state.throughput.capacity = state.throughput.rate = state.throughput_mps
            state.warmup_started_at = to_seconds(warmup_started_at) or state.warmup_started_at
            state.logged_out = False

    def is_registered(self, number_id: str) -> bool:
        with self._lock:
            return number_id in self._numbers

    def logout(self, number_id: str) -> None:
        """Disconnect a number: sends answer 190 until it is registered again."""
        with self._lock:
            self._state(number_id).logged_out = True

    def status(self, number_id: str) -> NumberStatus:
        """The number's standing, rating and limits now."""
        with self._lock:
            state = self._state(number_id)
            now = self.clock.time()
            self._drain(now)
            state.refresh(now)
            return state.snapshot(now)

    def is_on_whatsapp(self, number_id: str, phone: str) -> bool:
        """Whether a phone is a WhatsApp user, as this number's parameters see it."""
        with self._lock:
            params = self._state(number_id).params
        return traits_for(params.seed, digits(phone)).on_whatsapp >= params.not_on_whatsapp_share

    def accept_delay(self, number_id: str) -> float:
        """Real seconds a send takes to be answered (the simulated API latency under the clock's speed)."""
        with self._lock:
            latency = self._state(number_id).params.accept_latency_s
        return latency / self.clock.speed if latency > 0 else 0.0

    def _state(self, number_id: str) -> NumberState:
        state = self._numbers.get(number_id)
        if state is None:
            raise SendError(133010, f"Phone number {number_id} is not registered with the simulator")
        return state

    # -- accept path ------------------------------------------------------------------------------

    def _refuse(self, code: int, message: str, wait: float | None = None) -> SendError:
        return SendError(code, message, retry_after=None if wait is None else wait / self.clock.speed)

    def accept(self, number_id: str, message: OutboundMessage) -> SendResult:
        """Accept a send or raise `SendError` with WhatsApp's code; the webhooks follow later."""
        to = digits(message.to)
        with self._lock:
            state = self._state(number_id)
            p = state.params
            now = self.clock.time()
            if state.logged_out:
                raise SendError(190, "The number is logged out of the simulator")
            if not to or to == state.display:
                raise SendError(131021 if to else 100, "Invalid recipient")
            if self._heap and self._heap[0][0] <= now:
                self._drain(now)
            state.refresh(now)
            in_window = state.in_window(to, now)
            if state.banned:
                raise SendError(131031, "Account locked: the number was banned for repeated low-quality sending")
            if state.restricted_until is not None and not in_window:
                state.attempt_while_restricted(now)
                if state.banned:
                    raise SendError(131031, "Account locked: the number kept sending while restricted")
                wait = state.restricted_until - now
                raise self._refuse(368, "Temporarily blocked: business-initiated messages are restricted", wait)
            if p.enforce_window and not in_window and message.kind is not MessageKind.template:
                raise SendError(131047, "More than 24 hours have passed since the recipient last replied")
            refusal = state.check_limits(to, now, in_window=in_window) if p.enforce_limits else None
            if refusal is not None:
                raise self._refuse(*refusal)
            multiplier = state.burst_multiplier(now) if p.enforce_quality and not in_window else 1.0
            flight = Flight(number_id, payloads.wamid(to, self._ids.getrandbits(72), inbound=False), to)
            if p.emit_events:
                plan(
                    self._rng,
                    state,
                    message,
                    flight,
                    now,
                    in_window=in_window,
                    feedback_multiplier=multiplier,
                    capped_until=self._capped_until,
                )
                self._push(flight)
            state.accepts += 1
            if state.accepts % PRUNE_EVERY == 0:
                state.prune(now)
                self._capped_until = {user: t for user, t in self._capped_until.items() if t > now}
            return SendResult(provider_message_id=flight.message_id, accepted_at=to_datetime(now))

    def simulate_incoming(self, number_id: str, from_phone: str, text: str) -> str:
        """A user writes to the number (opens the service window at once); returns the inbound message id."""
        sender = digits(from_phone)
        with self._lock:
            state = self._state(number_id)
            now = self.clock.time()
            self._drain(now)
            state.open_window(sender, now)
            state.throughput.take(now)  # inbound messages count against throughput too (§3.1)
            flight = Flight(number_id, payloads.wamid(sender, self._ids.getrandbits(80), inbound=True), sender)
            flight.text = text
            flight.steps.append((now, "incoming", 0))
            self._push(flight)
            return flight.message_id

    def _push(self, flight: Flight) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (flight.steps[flight.index][0], self._seq, flight))

    # -- scheduler --------------------------------------------------------------------------------

    def pending(self) -> int:
        """Planned events not yet emitted."""
        with self._lock:
            return len(self._heap)

    def advance(self, seconds: float) -> int:
        """Move a `ManualClock` forward and emit what fell due; returns the number of payloads."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock; a SimClock runs on its own")
        self.clock.advance(seconds)
        return self.run_due()

    def run_due(self) -> int:
        """Emit every event due by now, batched per number; returns the number of payloads emitted."""
        with self._emit_lock:
            with self._lock:
                bodies = self._collect(self.clock.time())
            bodies, self._unsent = self._unsent + bodies, []
            emitted = 0
            for body in bodies:
                try:
                    if self.emit is not None:
                        self.emit(body)
                    emitted += 1
                except Exception:  # the pipeline's failure must not lose the event or stop the clock
                    log.exception("simulator.emit_failed")
                    self._unsent.append(body)
            self._unsent = self._unsent[-MAX_RETAINED_PAYLOADS:]
            return emitted

    def _drain(self, now: float) -> None:
        """Apply every step due by `now` to the numbers; their payloads wait in `_builders` for `run_due`.

        Called before each accept too, so a send always sees the blocks, opt-outs and replies that happened
        before it, however often the scheduler runs: outcomes do not depend on its cadence.
        """
        heap, builders = self._heap, self._builders
        while heap and heap[0][0] <= now:
            at, _, flight = heapq.heappop(heap)
            state = self._numbers[flight.number_id]
            builder = builders.get(flight.number_id)
            if builder is None:
                builder = builders[flight.number_id] = payloads.PayloadBuilder(
                    state.waba_id, state.display, flight.number_id
                )
            replay(state, flight, at, builder)
            flight.index += 1
            if flight.index < len(flight.steps):
                self._push(flight)

    def _collect(self, now: float) -> list[dict[str, Any]]:
        self._drain(now)
        builders, self._builders = self._builders, {}
        bodies: list[dict[str, Any]] = []
        for number_id, state in self._numbers.items():
            state.refresh(now)
            builder = builders.get(number_id)
            if state.outbox:
                if builder is None:
                    builder = payloads.PayloadBuilder(state.waba_id, state.display, number_id)
                builder.quality.extend(state.outbox)
                state.outbox.clear()
            if builder is not None:
                bodies.extend(builder.payloads())
        return bodies

    # -- background thread ------------------------------------------------------------------------

    def start(self, interval: float = 0.05) -> None:
        """Run the scheduler on a daemon thread every `interval` real seconds."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval,), name="whatsapp-simulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the scheduler thread (events already due are emitted first)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(timeout)

    def _loop(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                self.run_due()
            except Exception:  # keep the simulated network alive; the failure is logged
                log.exception("simulator.run_failed")
        self.run_due()
