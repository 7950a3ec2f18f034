"""Declaring topics: re-declaration rules, and a compacted topic read as a table in a join."""

from __future__ import annotations

from collections import Counter

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import Magic, fresh_workbench
from tests.oracles import eventually

pytestmark = pytest.mark.integration

ENRICH = """
SELECT m.tier, COUNT(*) AS payments
FROM enrich_payments p
JOIN enrich_merchants m ON p.merchant_id = m.merchant_id
GROUP BY m.tier
"""


def test_compacted_topic_joins_as_latest_value_per_key(
    kappa: Magic, shell: InteractiveShell, stack: EmbeddedStack
) -> None:
    kappa("topic enrich.payments.v1 --schema payments --table enrich_payments --partitions 2")
    kappa("topic enrich.merchants.v1 --schema 'merchant_id STRING, tier STRING' --compact "
          "--key merchant_id --table enrich_merchants")  # fmt: skip
    payments = list(PaymentsGenerator(seed=31).events(3_000))
    merchants = sorted({str(p["merchant_id"]) for p in payments})
    profiles = [{"merchant_id": m, "tier": "small"} for m in merchants]
    changed = [{"merchant_id": m, "tier": "large"} for m in merchants[::3]]
    shell.user_ns.update(payments=payments, profiles=profiles, changed=changed)
    kappa("produce enrich.merchants.v1 profiles")
    kappa("produce enrich.merchants.v1 changed")  # a later value for the same key wins
    kappa("produce enrich.payments.v1 payments")
    job_version = kappa("job enriched", ENRICH).job_version
    assert job_version.updating and job_version.key == ("tier",)
    with pytest.raises(UsageError, match=r"bounded replay cannot end.*enrich.merchants.v1"):
        kappa("replay enriched --until latest")
    kappa("run enriched")

    tier = {p["merchant_id"]: p["tier"] for p in [*profiles, *changed]}
    expected = dict(Counter(tier[str(p["merchant_id"])] for p in payments))
    workbench = fresh_workbench(stack)

    def read() -> dict[str, int]:
        frame = workbench.read("enriched").collect()
        return dict(zip(frame["tier"], frame["payments"], strict=True))

    assert eventually(read, lambda got: got == expected, timeout=180) == expected
    kappa("stop enriched v1")


def test_redeclaring_a_topic_keeps_what_versions_read(kappa: Magic) -> None:
    kappa("topic redeclare.v1 --schema 'a STRING, b BIGINT' --table redeclare")
    kappa("topic redeclare.v1 --schema 'a STRING, b BIGINT' --table redeclare")  # idempotent
    kappa("job reads_redeclare", "SELECT a, COUNT(*) AS n FROM redeclare GROUP BY a")
    with pytest.raises(UsageError, match=r"read by reads_redeclare v1.*new topic version"):
        kappa("topic redeclare.v1 --schema 'a STRING, b DOUBLE' --table redeclare")
    with pytest.raises(
        UsageError, match=r"SQL table 'redeclare' already reads topic redeclare\.v1"
    ):
        kappa("topic redeclare-copy.v1 --schema 'a STRING' --table redeclare")
    kappa("topic redeclare.v2 --schema 'a STRING' --table redeclare2")  # created: delete
    with pytest.raises(UsageError, match=r"cleanup.policy=delete.*--compact"):
        kappa("topic redeclare.v2 --schema 'a STRING' --compact --key a --table redeclare2")
    with pytest.raises(UsageError, match="must be a STRING column, not BIGINT"):
        kappa("topic ids.v1 --schema 'id BIGINT' --compact --key id")
