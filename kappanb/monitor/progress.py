"""How far a run has got, in the words every view of it uses: the watch panel's heading,
its table row and progress line, and the Kappa side panel (through the server's state).

Computed here once, from the run's state and the caught-up rule's verdict, so two views
of the same figures cannot say different things (a CANCELED run "caught up", a live run
Flink finished with a savepoint shown as "FINISHED", a run at the head "catching up").
"""

from __future__ import annotations

from dataclasses import dataclass

from kappanb.registry.records import ACTIVE_STATES

STARTING = "starting"
FINISHED = "finished"
CAUGHT_UP = "caught up"
AT_THE_HEAD = "at the head"
"""Read up to the head, but the caught-up rule has not confirmed it yet (it waits a few
samples and a checkpoint that commits the output)."""
CATCHING_UP = "catching up"
ENDED = "-"


def shown_state(state: str | None, bounded: bool) -> str:
    """The state a person should read: Flink's, except that an unbounded run Flink
    FINISHED was stopped (with a savepoint), and a run not sampled yet shows "-"."""
    if state is None:
        return "-"
    if state == "FINISHED" and not bounded:
        return "STOPPED"
    return state


@dataclass(frozen=True)
class Progress:
    """What the figures of one run say, for every view of it."""

    state: str
    """As `shown_state` gives it."""
    where: str
    """One of the words above, or what holds its watermark back."""

    @property
    def settled(self) -> bool:
        """Caught up, or finished: nothing more to wait for."""
        return self.where in (CAUGHT_UP, FINISHED)


def progress(
    state: str | None, *, bounded: bool, caught_up: bool, behind: int | None,
    threshold: int = 1000, held: str = "",
) -> Progress:  # fmt: skip
    """The run's `Progress` from its newest state (None: no sample yet), whether the
    caught-up rule fired, its records behind the head and what holds its watermark.
    A run the rule once judged caught up that is now more than ``threshold`` behind is
    "catching up" again: every view says what holds now, not what held once."""
    shown = shown_state(state, bounded)
    if state is None:
        return Progress(shown, STARTING)
    if state == "FINISHED" and bounded:
        return Progress(shown, FINISHED)
    if state not in ACTIVE_STATES:
        return Progress(shown, ENDED)
    # The rule's verdict stands while the run stays close to the head; a burst that puts
    # it further behind reads "catching up" (as the panel's poll says) until it is back.
    close = behind is not None and behind <= threshold and state == "RUNNING"
    if caught_up and not bounded and close:
        return Progress(shown, CAUGHT_UP)
    if held:
        return Progress(shown, held)
    if close and not bounded:
        return Progress(shown, AT_THE_HEAD)
    return Progress(shown, CATCHING_UP)
