from __future__ import annotations

import pytest

from kappanb.core.schema import Column
from kappanb.exceptions import JobDefinitionError
from kappanb.versions.planner import _key, _root_is_updating, split_cell

UPDATING = (
    "== Optimized Physical Plan ==\n"
    "GroupAggregate(groupBy=[day], select=[day, COUNT(DISTINCT merchant_id) AS merchants], "
    "changelogMode=[I,UA])\n"
    "+- Exchange(distribution=[hash[day]], changelogMode=[I])\n"
    "\n"
    "== Optimized Execution Plan ==\n"
    "..."
)
APPEND = (
    "== Optimized Physical Plan ==\n"
    "Calc(select=[window_start, window_end, n], changelogMode=[I])\n"
    "+- WindowAggregate(...)\n"
)
UPDATING_NO_GROUP = (
    "== Abstract Syntax Tree ==\nLogicalAggregate(group=[{0}], changelogMode=[I])\n\n"
    "== Optimized Physical Plan ==\n"
    "Join(joinType=[InnerJoin], where=[=(a, b)], changelogMode=[I,UB,UA,D])\n"
    "+- Exchange(distribution=[hash[a]], changelogMode=[I])\n"
)
DAILY = (Column("day", "DATE"), Column("merchants", "BIGINT NOT NULL"))
WINDOWS = (
    Column("window_start", "TIMESTAMP(3) NOT NULL"),
    Column("window_end", "TIMESTAMP(3) NOT NULL"),
    Column("n", "BIGINT NOT NULL"),
)


@pytest.mark.parametrize("cell", ["", "   \n", "-- only a comment\n/* and another */", ";;"])
def test_split_cell_refuses_empty(cell: str) -> None:
    with pytest.raises(JobDefinitionError, match="the cell is empty"):
        split_cell(cell)


@pytest.mark.parametrize(
    "cell",
    [
        "INSERT INTO out SELECT * FROM t",
        "\n\ninsert into out select 1",
        "CREATE VIEW v AS SELECT 1;\nINSERT INTO daily SELECT * FROM v;\nSELECT 1",
        "EXECUTE STATEMENT SET BEGIN INSERT INTO o SELECT 1; END",
    ],
)
def test_split_cell_inserts_must_write_the_jobs_own_output(cell: str) -> None:
    with pytest.raises(JobDefinitionError, match="INSERT INTO daily SELECT") as info:
        split_cell(cell, "daily")
    assert str(info.value).startswith("line ")


def test_split_cell_insert_error_names_its_line() -> None:
    with pytest.raises(JobDefinitionError, match=r"^line 3: "):
        split_cell("CREATE VIEW v AS SELECT 1;\n\nINSERT INTO o SELECT 1", "daily")


def test_statement_set_becomes_one_union_of_its_selects() -> None:
    cell = (
        "CREATE TEMPORARY VIEW v AS SELECT * FROM payments;\n"
        "EXECUTE STATEMENT SET BEGIN\n"
        "  INSERT INTO daily SELECT a FROM v;\n"
        "  INSERT INTO `daily`\n  SELECT b FROM v;\n"
        "END;"
    )
    parts = split_cell(cell, "daily")
    assert [s.text for s in parts.setup] == ["CREATE TEMPORARY VIEW v AS SELECT * FROM payments"]
    assert [(q.text, q.first_line) for q in parts.queries] == [
        ("SELECT a FROM v", 3),
        ("SELECT b FROM v", 5),
    ]
    assert parts.query.text == (
        "SELECT * FROM (\nSELECT a FROM v\n)\nUNION ALL\nSELECT * FROM (\nSELECT b FROM v\n)"
    )


@pytest.mark.parametrize(
    "cell",
    [
        "SELECT 1;\nCREATE VIEW v AS SELECT 1",
        "SHOW TABLES",
        "CREATE TEMPORARY FUNCTION f AS 'x.F'",
        "SELECTED FROM t",
    ],
)
def test_split_cell_refuses_last_statement_not_a_query(cell: str) -> None:
    with pytest.raises(JobDefinitionError, match="must be the job's SELECT"):
        split_cell(cell)


def test_split_cell_views_then_select() -> None:
    cell = (
        "CREATE TEMPORARY VIEW a AS SELECT * FROM payments;\n"
        "CREATE TEMPORARY VIEW b AS SELECT * FROM a;\n"
        "\n"
        "SELECT day, COUNT(*) FROM b GROUP BY day;\n"
    )
    parts = split_cell(cell)
    assert [s.first_line for s in parts.setup] == [1, 2]
    assert parts.setup[1].text == "CREATE TEMPORARY VIEW b AS SELECT * FROM a"
    assert parts.query.text == "SELECT day, COUNT(*) FROM b GROUP BY day"
    assert parts.query.first_line == 4


@pytest.mark.parametrize(
    "cell",
    [
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "with x as (select 1 as a)\nselect a from x",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "VALUES (1), (2)",
        "select 1",
    ],
)
def test_split_cell_accepts_queries(cell: str) -> None:
    parts = split_cell(cell)
    assert parts.setup == []
    assert parts.query.text == cell.strip()


def test_root_is_updating() -> None:
    assert _root_is_updating(UPDATING) is True
    assert _root_is_updating(APPEND) is False
    assert _root_is_updating(UPDATING_NO_GROUP) is True  # the AST's modes are ignored
    assert _root_is_updating("no plan at all") is False


def test_key_of_updating_plan_comes_from_group_by() -> None:
    assert _key(UPDATING, DAILY, None, True) == ("day",)


def test_key_of_append_plan_is_empty() -> None:
    assert _key(APPEND, WINDOWS, None, False) == ()
    assert _key(APPEND, WINDOWS, [], False) == ()


def test_given_key_wins() -> None:
    assert _key(UPDATING, DAILY, ["merchants"], True) == ("merchants",)
    assert _key(APPEND, WINDOWS, ["window_start", "window_end"], False) == (
        "window_start",
        "window_end",
    )


def test_given_key_not_an_output_column() -> None:
    with pytest.raises(JobDefinitionError) as info:
        _key(UPDATING, DAILY, ["day", "merchant_id"], True)
    message = str(info.value)
    assert "--key merchant_id is not an output column" in message
    assert "day, merchants" in message


def test_updating_without_group_by_asks_for_key() -> None:
    with pytest.raises(JobDefinitionError) as info:
        _key(UPDATING_NO_GROUP, DAILY, None, True)
    assert "add --key with some of day, merchants" in str(info.value)


def test_group_by_not_among_output_columns_asks_for_key() -> None:
    renamed = (Column("d", "DATE"), Column("merchants", "BIGINT"))
    with pytest.raises(JobDefinitionError, match="add --key with some of d, merchants"):
        _key(UPDATING, renamed, None, True)


def test_multi_column_group_by() -> None:
    plan = UPDATING.replace("groupBy=[day]", "groupBy=[day, merchant_id]")
    cols = (*DAILY, Column("merchant_id", "STRING"))
    assert _key(plan, cols, None, True) == ("day", "merchant_id")


REORDERED = """== Optimized Physical Plan ==
Calc(select=[n, merchant_id], changelogMode=[I,UA])
+- GroupAggregate(groupBy=[merchant_id], select=[merchant_id, COUNT(*) AS n], changelogMode=[I,UA])
   +- Exchange(distribution=[hash[merchant_id]], changelogMode=[I])
"""
SWAPPED = """== Optimized Physical Plan ==
Calc(select=[merchant_id AS m, n AS merchant_id], changelogMode=[I,UA])
+- GroupAggregate(groupBy=[merchant_id], select=[merchant_id, COUNT(*) AS n], changelogMode=[I,UA])
"""
TOP_N = (
    "== Optimized Physical Plan ==\n"
    "Rank(strategy=[UpdateFastStrategy], rankType=[ROW_NUMBER], partitionBy=[merchant_id], "
    "orderBy=[amount_cents DESC], select=[merchant_id, amount_cents, w0$o0], "
    "changelogMode=[I,UA,D])\n"
    "+- Exchange(distribution=[hash[merchant_id]], changelogMode=[I])\n"
)


def test_key_follows_the_root_calc_projection() -> None:
    cols = (Column("n", "BIGINT"), Column("merchant_id", "STRING"))
    assert _key(REORDERED, cols, None, updating=True) == ("merchant_id",)
    swapped = (Column("m", "STRING"), Column("merchant_id", "BIGINT"))
    # The output column named merchant_id is the count: the key is m.
    assert _key(SWAPPED, swapped, None, updating=True) == ("m",)


def test_top_n_needs_an_explicit_key() -> None:
    cols = (
        Column("merchant_id", "STRING"),
        Column("amount_cents", "BIGINT"),
        Column("rn", "BIGINT"),
    )
    with pytest.raises(JobDefinitionError, match="add --key"):
        _key(TOP_N, cols, None, updating=True)
    assert _key(TOP_N, cols, ["merchant_id", "rn"], updating=True) == ("merchant_id", "rn")


def test_a_typo_in_the_first_word_is_named_with_flinks_parse_error_and_the_line() -> None:
    cell = "CREATE TEMPORARY VIEW v AS SELECT 1 AS a;\n\n  SELEC a\n  FROM v"
    seen: list[str] = []

    def parse(text: str) -> str:
        seen.append(text)
        return "SQL parse failed. Non-query expression encountered in illegal context"

    with pytest.raises(JobDefinitionError) as refused:
        split_cell(cell, parse=parse)
    assert str(refused.value) == (
        "the last statement (line 3) must be the job's SELECT; views and functions may come "
        "before it. It starts with SELEC: did you mean SELECT?\n"
        "Flink's parser: SQL parse failed. Non-query expression encountered in illegal context\n"
        "line 3 of the cell:\n"
        "      SELEC a\n"
        "      ^"
    )
    assert seen == ["SELEC a\n  FROM v"]  # Flink parsed the refused statement only


def test_a_statement_with_no_near_keyword_gets_no_guess() -> None:
    with pytest.raises(JobDefinitionError) as refused:
        split_cell("hello world")  # no Flink at hand: kappanb's message, on one line
    assert str(refused.value) == (
        "the last statement (line 1) must be the job's SELECT; views and functions may come "
        "before it"
    )
    with pytest.raises(JobDefinitionError, match=r"It starts with SELEC: did you mean SELECT\?$"):
        split_cell("SELEC 1")


def test_an_unknown_column_names_the_cell_line_with_a_caret_and_the_near_name() -> None:
    from kappanb.core.sqltext import statements
    from kappanb.versions.planner import rejected

    cell = "\nSELECT merchant_id,\n       amount\nFROM pay"  # as the magic passes it
    (query,) = statements(cell)
    said = rejected(
        "Column 'amount' not found in any table (at line 2, column 8)", query, cell,
        ["merchant_id", "amount_cents"],
    )  # fmt: skip
    assert said == (
        "Flink rejected the job: Column 'amount' not found in any table (at line 2, column 8); "
        "did you mean amount_cents?\n"
        "line 3 of the cell:\n"
        "           amount\n"
        "           ^"
    )
