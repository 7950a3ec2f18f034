"""Each error the issue names: a clear UsageError, and nothing half-created."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.settings import StackSettings
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import open_catalog
from kappanb.workbench import Workbench
from tests.helpers import settings_for
from tests.magics.conftest import Magic, new_shell

pytestmark = pytest.mark.integration

TOPIC = "errors.payments.v1"
GOOD = "SELECT merchant_id, COUNT(*) AS n FROM err_payments GROUP BY merchant_id"


@pytest.fixture
def declared(kappa: Magic, shell: InteractiveShell) -> Magic:
    kappa(f"topic {TOPIC} --schema payments --event-time event_time --table err_payments")
    shell.user_ns["few"] = list(PaymentsGenerator(seed=3).events(200))
    kappa(f"produce {TOPIC} few")
    kappa("job err_counts", GOOD)
    return kappa


def _tables(stack: EmbeddedStack) -> set[str]:
    catalog = open_catalog(stack.endpoints().catalog)
    return {t[-1] for t in catalog.list_tables("default")}


def test_rejected_sql_shows_the_planner_message_and_the_line(
    declared: Magic, stack: EmbeddedStack
) -> None:
    before = str(declared("jobs"))
    cell = (
        "-- a typo on line 3\nSELECT merchant_id,\n       COUNT(*) AS n, amount_centz\n"
        "FROM err_payments GROUP BY merchant_id"
    )
    with pytest.raises(UsageError) as err:
        declared("job err_typo", cell)
    message = str(err.value)
    assert "Column 'amount_centz' not found" in message
    # line 1 is the %%kappa line: the typo's line as the notebook shows it
    assert "line 4 of the cell" in message and "COUNT(*) AS n, amount_centz" in message
    assert "at org.apache" not in message and "Traceback" not in message
    assert str(declared("jobs")) == before  # no half-registered version
    assert "err_typo" not in " ".join(_tables(stack))


def test_a_parse_error_points_at_the_word(declared: Magic) -> None:
    with pytest.raises(UsageError, match=r'Encountered "day"[\s\S]*line 2 of the cell'):
        declared("job err_reserved", "SELECT CAST(event_time AS DATE) AS day FROM err_payments")


def test_insert_and_unknown_tables_are_explained(declared: Magic) -> None:
    with pytest.raises(UsageError, match="must be INSERT INTO err_insert SELECT"):
        declared("job err_insert", "INSERT INTO x SELECT * FROM err_payments")
    with pytest.raises(UsageError, match=r"reads no declared topic.*err_payments"):
        declared("job err_nothing", "SELECT 1 AS one")
    with pytest.raises(UsageError, match="has no SQL"):
        declared("job err_empty", "   \n")


def test_unknown_names_list_the_known_ones(declared: Magic) -> None:
    with pytest.raises(UsageError, match=r"unknown job 'nope'.*err_counts"):
        declared("run nope")
    with pytest.raises(UsageError, match="err_counts has no v7; its versions are v1"):
        declared("show err_counts v7")
    with pytest.raises(UsageError, match=f"unknown topic 'nope.v1'.*{TOPIC}"):
        declared("produce nope.v1 --generator payments --count 5")
    with pytest.raises(UsageError, match="not a version"):
        declared("stop err_counts seven")


def test_bad_names_never_reach_sql(declared: Magic) -> None:
    with pytest.raises(UsageError, match="not a valid job name"):
        declared("job 'x; DROP TABLE y'", GOOD)
    with pytest.raises(UsageError, match="not a valid topic name"):
        declared("topic 'pay`ments' --schema 'a STRING'")
    with pytest.raises(UsageError, match="does not map from JSON"):
        declared("topic evil.v1 --schema \"a STRING) WITH ('connector'='filesystem'\"")
    evil_alias = (
        "SELECT COUNT(*) AS `n`` BIGINT) WITH ('connector'='blackhole') --` FROM err_payments"
    )
    with pytest.raises(UsageError, match="not a valid output column name"):
        declared("job err_alias", evil_alias)
    with pytest.raises(UsageError, match="may only create views and functions"):
        declared("job err_setup", "SELECT 1 AS x FROM err_payments;\n" + GOOD)


def test_running_twice_and_writing_over_output_ask_for_a_flag(
    declared: Magic, stack: EmbeddedStack
) -> None:
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    first = declared("replay err_counts --until latest")
    assert rest.wait_for_state(first.run.flink_job_id, timeout=120) == "FINISHED"
    with pytest.raises(UsageError, match=r"already has output.*--restart.*--new-table"):
        declared("replay err_counts")
    second = declared("replay err_counts --new-table")
    assert second.run.table == "err_counts__v1_2"
    with pytest.raises(UsageError, match=r"already runs.*--restart"):
        declared("run err_counts")
    third = declared("run err_counts --restart")
    assert third.run.table == "err_counts__v1" and third.run.mode == "live"
    assert rest.job_state(second.run.flink_job_id) in ("CANCELED", "CANCELLING")
    declared("stop err_counts v1")
    with pytest.raises(UsageError, match="is not running"):
        declared("stop err_counts v1")


def test_bad_positions_are_refused_before_submitting(declared: Magic) -> None:
    with pytest.raises(UsageError, match="is not a position"):
        declared("replay err_counts --from yesterday")
    with pytest.raises(UsageError, match="is not after"):
        declared("replay err_counts --from 2026-03-02 --until 2026-03-01")


def test_a_stopped_stack_says_kappa_up(tmp_path: Path) -> None:
    settings: StackSettings = settings_for(tmp_path / "home")
    shell = new_shell(Workbench(settings, auto_up=False))
    with pytest.raises(UsageError, match=r"start it with `%kappa up`"):
        shell.run_line_magic("kappa", "topic down.v1 --schema 'a STRING'")
    InteractiveShell.clear_instance()


def test_cell_body_only_for_job(kappa: Magic) -> None:
    with pytest.raises(UsageError, match="takes no cell body"):
        kappa("status", "SELECT 1")
    with pytest.raises(UsageError, match="invalid choice: 'replya'"):
        kappa("replya x")


def test_a_bad_element_in_a_list_sends_nothing(declared: Magic, shell: InteractiveShell,
                                               stack: EmbeddedStack) -> None:  # fmt: skip
    from kappanb.kafka.topics import end_offsets

    kafka = stack.endpoints().kafka
    head = end_offsets(kafka, TOPIC)
    shell.user_ns["mixed"] = [*PaymentsGenerator(seed=4).events(3), "not an event"]
    with pytest.raises(UsageError, match="dict"):
        declared(f"produce {TOPIC} mixed")
    assert end_offsets(kafka, TOPIC) == head


def test_restart_checks_everything_before_stopping_anything(
    declared: Magic, stack: EmbeddedStack
) -> None:
    declared("topic errors.other.v1 --schema payments --table err_other")
    join = (
        "SELECT a.merchant_id, COUNT(*) AS n FROM err_payments a "
        "JOIN err_other b ON a.payment_id = b.payment_id GROUP BY a.merchant_id"
    )
    declared("job err_join", join)
    live = declared("run err_join")
    with pytest.raises(UsageError, match="partition offsets in --from need a job that reads one"):
        declared("replay err_join --from 0:1 --restart")
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.job_state(live.run.flink_job_id) == "RUNNING"  # nothing was stopped
    assert "err_join__v1" in _tables(stack)  # nor dropped
    declared("stop err_join v1")


def test_watermark_without_event_time_is_refused(declared: Magic) -> None:
    with pytest.raises(UsageError, match="--watermark needs --event-time"):
        declared("topic wm.v1 --schema 'a STRING' --watermark '5 s'")
