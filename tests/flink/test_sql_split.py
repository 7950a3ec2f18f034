from __future__ import annotations

from kappanb.flink.sql import is_insert, split_statements


def test_split_keeps_semicolons_inside_quotes_and_drops_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (s STRING) WITH ('k' = 'a;b');
    /* block; comment */
    INSERT INTO out SELECT `odd;name` FROM t;
    """
    statements = split_statements(script)
    assert statements == [
        "CREATE TABLE t (s STRING) WITH ('k' = 'a;b')",
        "INSERT INTO out SELECT `odd;name` FROM t",
    ]
    assert [is_insert(s) for s in statements] == [False, True]


def test_empty_script_has_no_statements() -> None:
    assert split_statements("  ;\n -- nothing\n ; ") == []
