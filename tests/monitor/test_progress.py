"""The words every view of a run uses for where it is (no I/O)."""

from __future__ import annotations

from kappanb.monitor.progress import progress, shown_state


def test_a_run_not_sampled_yet_is_starting_not_catching_up() -> None:
    said = progress(None, bounded=False, caught_up=False, behind=None)
    assert (said.state, said.where) == ("-", "starting")


def test_an_ended_run_is_never_caught_up() -> None:
    said = progress("CANCELED", bounded=False, caught_up=True, behind=0)
    assert (said.state, said.where) == ("CANCELED", "-")


def test_a_live_run_flink_finished_was_stopped_and_a_bounded_replay_finished() -> None:
    assert shown_state("FINISHED", bounded=False) == "STOPPED"  # stop with a savepoint
    live = progress("FINISHED", bounded=False, caught_up=True, behind=0)
    assert (live.state, live.where) == ("STOPPED", "-")
    replay = progress("FINISHED", bounded=True, caught_up=False, behind=0)
    assert (replay.state, replay.where) == ("FINISHED", "finished") and replay.settled


def test_a_run_at_the_head_is_not_called_catching_up_before_the_rule_confirms_it() -> None:
    close = progress("RUNNING", bounded=False, caught_up=False, behind=0, threshold=1000)
    assert close.where == "at the head" and not close.settled
    far = progress("RUNNING", bounded=False, caught_up=False, behind=200_000)
    assert far.where == "catching up"
    done = progress("RUNNING", bounded=False, caught_up=True, behind=0)
    assert done.where == "caught up" and done.settled
    held = progress("RUNNING", bounded=False, caught_up=False, behind=0, held="p 0 holds")
    assert held.where == "p 0 holds"


def test_a_caught_up_run_that_falls_behind_again_reads_catching_up_in_every_view() -> None:
    # The watch's rule stays fired; the panel's poll judges afresh: both say this.
    burst = progress("RUNNING", bounded=False, caught_up=True, behind=50_000, threshold=1000)
    assert burst.where == "catching up" and not burst.settled
    back = progress("RUNNING", bounded=False, caught_up=True, behind=10, threshold=1000)
    assert back.where == "caught up" and back.settled
    unknown = progress("RUNNING", bounded=False, caught_up=True, behind=None)
    assert unknown.where == "catching up"
