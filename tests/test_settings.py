from __future__ import annotations

from pathlib import Path

import pytest

from kappanb.exceptions import SettingsError
from kappanb.settings import DEFAULT_PORTS, StackSettings


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


def test_table_maintenance_is_off_by_default_and_switched_on_by_environment() -> None:
    from kappanb.tables.maintenance import MaintenancePolicy

    assert StackSettings.from_env({}).table_maintenance is None
    assert StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "off"}).table_maintenance is None
    on = StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "on"})
    assert on.table_maintenance == MaintenancePolicy()
    with pytest.raises(SettingsError, match="KAPPANB_TABLE_MAINTENANCE='sometimes'"):
        StackSettings.from_env({"KAPPANB_TABLE_MAINTENANCE": "sometimes"})
