"""A run's clock: one estimate of the time it takes, and the status line that ticks every second.

The estimate starts as the dialog's (:meth:`engine.EngineConfig.estimate_seconds`: the timings
measured on this computer at install time, for the planned work), so the dialog and the first
status line agree. As the engine's records arrive it leans towards the run's own measure (the
time so far plus the engine's estimate of the time left, from its pace), the more the more work
is done, so it narrows to the truth by the end. The time left counts down between records, and
never rises by more than :data:`RISE_PER_SECOND` of itself per second: no sudden jumps up.

Words and bar count the work (the plan's, each iteration by its cost; within an iteration of a
big stage, tile by tile), not the iterations.

Standard library only: the tests import it without GIMP.
"""

from __future__ import annotations

from typing import Any

import protocol

#: How far the measured pace is trusted: at this share of the work done, it counts as much as
#: the install-time estimate.
TRUST = 0.15
#: The most the time left may rise per second, as a share of itself (at least of a minute).
RISE_PER_SECOND = 0.01
RISE_FLOOR_S = 60.0
#: Under this many seconds left, the line says the run is nearly done (with this share of the
#: work done) or taking longer than estimated.
NEARLY_DONE_S, NEARLY_DONE_WORK = 1.0, 0.9


class RunClock:
    """The clock of one run started at ``now`` (seconds, monotonic) and expected to take ``prior`` s."""

    def __init__(self, prior: float, now: float) -> None:
        self.prior, self.started = prior, now
        self.record: dict[str, Any] | None = None
        self.record_at = now
        self.shown: tuple[float, float] | None = None  # (time left shown, when)

    def hear(self, record: dict[str, Any], now: float) -> None:
        """A progress record of the engine, arrived at ``now``."""
        self.record, self.record_at = record, now

    @property
    def fraction(self) -> float:
        """The share of the planned work done, 0 to 1."""
        return 0.0 if self.record is None else min(1.0, max(0.0, float(self.record["fraction"])))

    def total(self) -> float:
        """The estimated seconds of the whole run: the install-time estimate, narrowed by the run's pace."""
        if self.record is None:
            return self.prior
        done = self.fraction
        measured = (self.record_at - self.started) + max(0.0, float(self.record["eta"]))
        weight = done / (done + TRUST * (1.0 - done)) if done > 0 else 0.0
        return (1.0 - weight) * self.prior + weight * measured

    def left(self, now: float) -> float:
        """The seconds left, as shown at ``now`` (call it in time order)."""
        left = max(0.0, self.total() - (now - self.started))
        if self.shown is not None:
            shown, at = self.shown
            ceiling = shown + RISE_PER_SECOND * max(now - at, 0.0) * max(shown, RISE_FLOOR_S)
            left = min(left, ceiling)
        self.shown = (left, now)
        return left

    def status(self, now: float) -> str:
        """One line: where the run stands, how much of the work is done, the time so far and left."""
        record, left = self.record, self.left(now)
        if record is None:
            where = "starting the engine…"
        else:
            where = f"stage {record['stage']}/{record['num_stages']} ({record['width']}x{record['height']})"
            where += f" · {int(100 * self.fraction)}% of the work done"
        if left >= NEARLY_DONE_S:
            remaining = f"about {protocol.format_seconds(left)} left"
        else:  # the estimate has run out: say so, rather than that the end is near, until the work is
            remaining = "nearly done" if self.fraction >= NEARLY_DONE_WORK else "taking longer than estimated"
        return f"{where} · {protocol.format_seconds(now - self.started)} so far · {remaining}"
