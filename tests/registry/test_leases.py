"""Job locks on the log: granted, refused, renewed and expired by broker time alone."""

from __future__ import annotations

from kappanb.registry.leases import Holder, Lease, acquire, release, renew

A = Holder("token-a", "promote counts v2", "ada", "laptop-1", 101)
B = Holder("token-b", "replay counts v3", "bob", "laptop-2", 202)
T0 = 1_700_000_000_000  # a broker timestamp (ms)


def test_a_free_job_is_granted_at_the_events_time() -> None:
    decision = acquire(None, A, 30_000, T0)
    assert decision.granted and decision.busy == ""
    assert decision.lease == Lease(A, T0, T0, 30_000)


def test_a_live_holder_is_kept_and_named() -> None:
    held = acquire(None, A, 30_000, T0).lease
    refused = acquire(held, B, 30_000, T0 + 29_999)
    assert not refused.granted and refused.lease == held
    assert refused.busy == "`promote counts v2`, pid 101 on laptop-1 as ada, since 22:13:20 UTC"


def test_a_lease_without_renewal_runs_out_after_its_time_exactly() -> None:
    held = acquire(None, A, 30_000, T0).lease
    assert not acquire(held, B, 30_000, T0 + 29_999).granted
    taken = acquire(held, B, 10_000, T0 + 30_000)
    assert taken.granted and taken.lease == Lease(B, T0 + 30_000, T0 + 30_000, 10_000)


def test_renewals_keep_the_job_past_the_first_lease() -> None:
    lease = acquire(None, A, 1_000, T0).lease
    for at in range(T0 + 900, T0 + 5_000, 900):
        decision = renew(lease, "token-a", at)
        assert decision.granted
        lease = decision.lease
    assert lease is not None and lease.since_ms == T0 and lease.renewed_ms == T0 + 4_500
    assert not acquire(lease, B, 1_000, T0 + 5_499).granted
    assert acquire(lease, B, 1_000, T0 + 5_500).granted


def test_a_renewal_after_the_lease_ran_out_is_lost_and_frees_the_job() -> None:
    lease = acquire(None, A, 1_000, T0).lease
    late = renew(lease, "token-a", T0 + 1_000)
    assert not late.granted and late.lease is None


def test_only_the_holder_renews_or_releases() -> None:
    lease = acquire(None, A, 1_000, T0).lease
    assert renew(lease, "token-b", T0 + 500) == renew(lease, "token-b", T0 + 500)
    assert not renew(lease, "token-b", T0 + 500).granted
    assert renew(lease, "token-b", T0 + 500).lease == lease
    assert release(lease, "token-b").lease == lease and not release(lease, "token-b").granted
    assert release(lease, "token-a").lease is None and release(lease, "token-a").granted
    assert not release(None, "token-a").granted


def test_a_broker_clock_that_went_back_does_not_expire_a_lease() -> None:
    """The cache feeds `acquire` the log's clock (never below an earlier event's), so an
    event stamped earlier than the holder's renewal cannot take the job from it."""
    lease = acquire(None, A, 1_000, T0).lease
    assert lease is not None and lease.live_at(T0 - 60_000)
