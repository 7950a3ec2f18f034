from __future__ import annotations

import pytest

from kappanb.exceptions import TableNotFoundError
from kappanb.stack.endpoints import Endpoints
from kappanb.tables.read import read_table

pytestmark = pytest.mark.integration


def test_unknown_table_lists_what_exists(endpoints: Endpoints) -> None:
    with pytest.raises(TableNotFoundError, match=r"no table default\.nope in catalog 'kappanb'"):
        read_table(endpoints.catalog, "nope")
