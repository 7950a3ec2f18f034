from __future__ import annotations

import pytest

from kappanb.core.sqltext import (
    Statement,
    digest,
    keyword_hint,
    normalise,
    offending_line,
    statements,
)


def test_normalise_ignores_comments_and_whitespace() -> None:
    a = "SELECT a,\n       b  -- the b\nFROM   t /* table */ ;\n"
    b = "-- header\nSELECT a, b FROM t"
    assert normalise(a) == normalise(b) == "SELECT a, b FROM t"


def test_normalise_keeps_string_literals() -> None:
    assert normalise("SELECT 'a  b'  FROM t") == "SELECT 'a  b' FROM t"
    assert normalise("SELECT 'a b' FROM t") != normalise("SELECT 'a  b' FROM t")
    assert normalise("SELECT `my  col` FROM t") == "SELECT `my  col` FROM t"
    assert normalise("SELECT 'it''s  x'") == "SELECT 'it''s  x'"


def test_normalise_keeps_comment_markers_inside_literals() -> None:
    assert normalise("SELECT 'a--b' AS x FROM t") == "SELECT 'a--b' AS x FROM t"


def test_normalise_python_keeps_indentation() -> None:
    text = "\n\ndef f():   \n    return 1\n\n"
    assert normalise(text, "python") == "def f():\n    return 1"
    assert normalise("def f():\n  return 1", "python") != normalise(text, "python")
    assert normalise("x = 1  # c", "python") == "x = 1  # c"


def test_digest_equal_for_cosmetic_changes() -> None:
    assert digest("SELECT a FROM t;") == digest("-- hi\nSELECT  a\nFROM t")
    assert len(digest("SELECT 1")) == 64


def test_digest_differs_for_real_changes() -> None:
    assert digest("SELECT a FROM t") != digest("SELECT b FROM t")
    assert digest("SELECT 'x' FROM t") != digest("SELECT 'y' FROM t")
    assert digest("SELECT a FROM t") != digest("SELECT a FROM t", "python")


def test_digest_differs_when_literal_after_dashes_differs() -> None:
    assert digest("SELECT 'a--b' FROM t") != digest("SELECT 'a--c' FROM t")


def test_statements_split_with_first_lines() -> None:
    cell = (
        "-- setup\n"  # 1
        "CREATE VIEW v AS\n"  # 2
        "  SELECT 1 AS x;\n"  # 3
        "/* a comment; with\n"  # 4
        "   a semicolon */\n"  # 5
        "\n"  # 6
        "SELECT ';' AS s, \"a;b\", `c;d`\n"  # 7
        "FROM v;  -- trailing;\n"  # 8
        "\n"
    )
    assert statements(cell) == [
        Statement("CREATE VIEW v AS\n  SELECT 1 AS x", 2),
        Statement("SELECT ';' AS s, \"a;b\", `c;d`\nFROM v", 7),
    ]


def test_statements_multi_line_literal_counts_lines() -> None:
    cell = "SELECT 'line\none';\nSELECT 2"
    assert [s.first_line for s in statements(cell)] == [1, 3]


def test_statements_of_only_comments_is_empty() -> None:
    assert statements("-- nothing; here\n/* or; here */\n ;; \n") == []


def test_statements_same_line() -> None:
    assert statements("SELECT 1; SELECT 2") == [
        Statement("SELECT 1", 1, 1),
        Statement("SELECT 2", 1, 11),
    ]


def test_statement_text_keeps_comment_markers_inside_literals() -> None:
    assert statements("SELECT 'a--b' AS x FROM t") == [Statement("SELECT 'a--b' AS x FROM t", 1)]


CELL = "CREATE VIEW v AS SELECT 1 AS x;\n\n  SELECT y\n    FROM nope"


def test_offending_line_first_line_adds_indentation() -> None:
    query = statements(CELL)[1]
    assert query.first_line == 3
    where = offending_line("Column 'y' not found at line 1, column 8", query, CELL)
    assert where == "line 3 of the cell:\n      SELECT y\n             ^"
    text_line, caret_line = where.splitlines()[1:]
    assert text_line[caret_line.index("^")] == "y"


def test_offending_line_later_line() -> None:
    query = statements(CELL)[1]
    where = offending_line("Object 'nope' not found at line 2, column 10", query, CELL)
    assert where.startswith("line 4 of the cell:\n")
    text_line, caret_line = where.splitlines()[1:]
    assert text_line == "        FROM nope"
    assert text_line[caret_line.index("^") :].startswith("nope")


@pytest.mark.parametrize("message", ["no position here", "at line 9, column 1", "line 3 column 4"])
def test_offending_line_without_usable_position(message: str) -> None:
    assert offending_line(message, statements(CELL)[1], CELL) == ""


def test_offending_line_statement_after_another_on_same_line() -> None:
    cell = "SELECT 1; SELECT y FROM t"
    query = statements(cell)[1]
    where = offending_line("Column 'y' not found at line 1, column 8", query, cell)
    text_line, caret_line = where.splitlines()[1:]
    assert text_line[caret_line.index("^")] == "y"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("SELEC a FROM t", "did you mean SELECT?"),
        ("slect a FROM t", "did you mean SELECT?"),
        ("INSRT INTO j SELECT 1", "did you mean INSERT?"),
        ("WTIH x AS (SELECT 1) SELECT * FROM x", "did you mean WITH?"),
        ("CRATE TEMPORARY VIEW v AS SELECT 1", "did you mean CREATE?"),
        ("EXECUT STATEMENT SET BEGIN", "did you mean EXECUTE?"),
        ("SELECT a FROM t", ""),  # right already
        ("SHOW TABLES", ""),  # a keyword, just not one a job starts with: nothing close
        ("hello world", ""),
    ],
)
def test_keyword_hint_names_the_keyword_a_near_miss_meant(text: str, hint: str) -> None:
    assert keyword_hint(Statement(text, 1)) == hint


def test_an_unknown_column_gets_the_near_name() -> None:
    from kappanb.core.sqltext import column_hint

    columns = ["payment_id", "merchant_id", "amount_cents", "event_time"]
    said = "Column 'amount' not found in any table"
    assert column_hint(said, columns) == "did you mean amount_cents?"
    assert column_hint("Column 'MERCHANT' not found in table 'p'", columns) == (
        "did you mean merchant_id?"
    )
    assert column_hint("Column 'zzz' not found in any table", columns) == ""
    assert column_hint("Object 'pay' not found", columns) == ""
