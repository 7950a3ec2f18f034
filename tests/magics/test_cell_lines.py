"""A `%%kappa job` cell's errors name its lines as the notebook shows them: the %%kappa
line is line 1 (a real IPython shell; the stack is a fake that is down, so Flink's parser
is not at hand and nothing is started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from kappanb.workbench import Workbench
from tests.magics.conftest import new_shell
from tests.stack.fake_stack import FakeStack


def test_a_typo_is_named_on_the_line_the_user_sees(tmp_path: Path) -> None:
    workbench = Workbench(stack=FakeStack(tmp_path), auto_up=False)  # type: ignore[arg-type]
    shell = new_shell(workbench)
    try:
        with pytest.raises(UsageError) as refused:
            shell.run_cell_magic("kappa", "job daily", "SELEC merchant_id\nFROM pay")
        # line 1 is `%%kappa job daily`; the typo is on line 2 of the cell as shown
        assert "the last statement (line 2) must be the job's SELECT" in str(refused.value)
        assert "did you mean SELECT?" in str(refused.value)
        assert workbench.registry.versions() == []  # nothing recorded
    finally:
        InteractiveShell.clear_instance()


def test_a_refusal_keeps_no_frame_of_the_refused_call_alive(tmp_path: Path) -> None:
    """What IPython keeps of an error (sys.last_value) must not hold the frames of the call
    it refused: a Kafka client there would retry a stopped broker for the kernel's life."""
    import gc
    import weakref

    from kappanb.exceptions import JobDefinitionError

    class Client:
        """Stands for a librdkafka client (those cannot be weakly referenced)."""

    seen: list[weakref.ref[Client]] = []

    class Refusing(Workbench):
        def job(self, *_args: object, **_kwargs: object) -> None:  # type: ignore[override]
            client = Client()  # a local of the frame that raises
            seen.append(weakref.ref(client))
            raise JobDefinitionError("refused")

    shell = new_shell(Refusing(stack=FakeStack(tmp_path), auto_up=False))  # type: ignore[arg-type]
    try:
        with pytest.raises(UsageError) as refused:
            shell.run_cell_magic("kappa", "job daily", "SELECT 1")
        assert refused.value.__context__ is None and refused.value.__cause__ is None
        gc.collect()
        assert seen and seen[0]() is None  # the client went with the refused call's frame
    finally:
        InteractiveShell.clear_instance()
