from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.exceptions import SettingsError
from kappanb.settings import (
    DEFAULT_PORTS,
    IDLE_TIMEOUT,
    StackSettings,
    idle_timeout_for,
)


def test_defaults_without_environment() -> None:
    settings = StackSettings.from_env({})
    assert settings.home == Path.home() / ".kappanb"
    assert dict(settings.ports) == DEFAULT_PORTS
    assert settings.explicit_ports == frozenset()
    assert settings.task_slots == 4


def test_environment_overrides_and_marks_ports_explicit(tmp_path: Path) -> None:
    env = {"KAPPANB_HOME": str(tmp_path), "KAPPANB_KAFKA_PORT": "19092", "KAPPANB_TASK_SLOTS": "2"}
    settings = StackSettings.from_env(env)
    assert settings.home == tmp_path
    assert settings.ports["kafka"] == 19092
    assert settings.explicit_ports == {"kafka"}
    assert settings.task_slots == 2


def test_keyword_overrides_win_over_environment(tmp_path: Path) -> None:
    settings = StackSettings.from_env({"KAPPANB_TASK_SLOTS": "2"}, task_slots=8)
    assert settings.task_slots == 8


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_bad_numbers_are_named_in_the_message(value: str) -> None:
    with pytest.raises(SettingsError, match=f"KAPPANB_FLINK_REST_PORT={value!r}"):
        StackSettings.from_env({"KAPPANB_FLINK_REST_PORT": value})


def test_table_maintenance_is_on_by_default_and_switched_off_by_environment() -> None:
    from kappanb.tables.maintenance import MaintenancePolicy

    assert StackSettings().table_maintenance == MaintenancePolicy()
    assert StackSettings.from_env({}).table_maintenance == MaintenancePolicy()
    assert StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "on"}).table_maintenance == (
        MaintenancePolicy()
    )
    assert StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "off"}).table_maintenance is None
    with pytest.raises(SettingsError, match="KAPPANB_TABLE_MAINTENANCE='sometimes'"):
        StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "sometimes"})


def test_every_stack_waits_30_s_before_a_partition_is_idle() -> None:
    # A partition's idle timer runs before its broker has answered the run's consumer, and
    # while its records wait behind others' on a starved machine: 5 s dropped records as
    # late on a cluster (notebook 02) and on a loaded laptop's embedded stack.
    unset = StackSettings.from_env({})
    assert idle_timeout_for(unset) == IDLE_TIMEOUT == "30 s"
    chosen = StackSettings.from_env({"KAPPANB_WATERMARK_IDLE_TIMEOUT": "2 s"})
    assert idle_timeout_for(chosen) == "2 s"
