from __future__ import annotations

import pytest

from kappanb.core.names import (
    check_column_name,
    check_job_name,
    check_table_name,
    check_topic_name,
    literal,
    output_table,
    parse_version,
    quote,
    table_name_for_topic,
)
from kappanb.exceptions import InvalidNameError


@pytest.mark.parametrize("name", ["daily_merchants", "j", "a1", "x_y_z", "a" * 48])
def test_valid_job_names_are_returned_unchanged(name: str) -> None:
    assert check_job_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "it's",
        'say"hi"',
        "has space",
        "x; DROP TABLE y",
        "daily__merchants",
        "DailyMerchants",
        "daily-merchants",
        "1job",
        "_job",
        "a" * 49,
        "job`",
    ],
)
def test_invalid_job_names_are_refused_with_advice(name: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        check_job_name(name)
    assert repr(name) in str(info.value)
    assert "lower-case" in str(info.value)


@pytest.mark.parametrize("name", ["payments", "payments.captured.v1", "a-b_c.D9", "9lives"])
def test_valid_topic_names(name: str) -> None:
    assert check_topic_name(name) == name


@pytest.mark.parametrize(
    "name", ["", ".hidden", "a..b", "with space", "x;DROP", "quo'te", "a" * 201, "-dash"]
)
def test_invalid_topic_names(name: str) -> None:
    with pytest.raises(InvalidNameError, match="not a valid topic name"):
        check_topic_name(name)


@pytest.mark.parametrize("name", ["ts", "_hidden", "Amount_Cents", "a" * 128])
def test_valid_column_names(name: str) -> None:
    assert check_column_name(name) == name


@pytest.mark.parametrize("name", ["", "1st", "a b", "a-b", "a`b", "x) WITH (", "a" * 129])
def test_invalid_column_names_mention_what(name: str) -> None:
    with pytest.raises(InvalidNameError, match="not a valid key name"):
        check_column_name(name, what="key")


@pytest.mark.parametrize(
    ("text", "number"), [("v3", 3), ("3", 3), ("V2", 2), (" v12 ", 12), ("v10", 10)]
)
def test_parse_version(text: str, number: int) -> None:
    assert parse_version(text) == number


@pytest.mark.parametrize("text", ["v0", "0", "x", "", "v", "v-1", "v1.5", "vv2", "v01"])
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(InvalidNameError, match="write v1, v2"):
        parse_version(text)


@pytest.mark.parametrize(
    ("topic", "table"),
    [
        ("payments.captured.v1", "payments_captured_v1"),
        ("a-b", "a_b"),
        ("plain", "plain"),
        ("9lives", "t_9lives"),
        ("Orders", "Orders"),
    ],
)
def test_table_name_for_topic(topic: str, table: str) -> None:
    assert table_name_for_topic(topic) == table
    assert check_column_name(table) == table  # always a usable SQL identifier


def test_output_table_suffixes() -> None:
    assert output_table("daily_merchants", 2) == "daily_merchants__v2"
    assert output_table("daily_merchants", 2, suffix=1) == "daily_merchants__v2"
    assert output_table("daily_merchants", 2, suffix=3) == "daily_merchants__v2_3"


def test_output_table_cannot_collide_with_a_job_name() -> None:
    # job names may not contain "__", so NAME__vN is never another job's name
    with pytest.raises(InvalidNameError):
        check_job_name(output_table("daily", 1))


def test_quote_back_quotes_identifiers() -> None:
    assert quote("payments_captured_v1") == "`payments_captured_v1`"


@pytest.mark.parametrize("identifier", ["a`b", "`", "x` ; DROP TABLE y; --"])
def test_quote_refuses_back_quotes(identifier: str) -> None:
    with pytest.raises(InvalidNameError, match="back-quote"):
        quote(identifier)


# ---- issue 8: names that try to reach SQL --------------------------------------------
HOSTILE = [
    "it's",
    "pay`ments",
    "two words",
    "x;DROP TABLE y",
    "x --y",
    "x/*y*/",
    "line\nbreak",
    "tab\tbed",
    "nul\x00l",
    "\u0440\u0430yments",  # a Cyrillic "er" and "a" that look like "pa"
    "\uff50\uff41yments",  # full-width "pa"
    "\u212aelvin",  # the Kelvin sign, upper-case "K" to a case-insensitive regex
    "payments\u200b",  # a zero-width space
    "x' ) WITH ('connector' = 'filesystem",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused_everywhere(name: str) -> None:
    for check in (check_job_name, check_topic_name, check_column_name, check_table_name):
        with pytest.raises(InvalidNameError, match="not a valid"):
            check(name)


@pytest.mark.parametrize("name", ["select", "from", "order", "user", "values", "table"])
def test_reserved_words_are_no_job_names(name: str) -> None:
    with pytest.raises(InvalidNameError, match=f"{name!r} is a reserved word.*{name}_counts"):
        check_job_name(name)


def test_a_topic_with_dashes_is_only_ever_a_literal_and_its_table_has_none() -> None:
    assert check_topic_name("x--y") == "x--y"  # a fine Kafka name, "--" and all
    assert table_name_for_topic("x--y") == "x__y"
    assert literal("x--y") == "'x--y'"  # inside quotes "--" starts no comment


def test_a_good_kafka_name_that_is_no_sql_name_asks_for_table() -> None:
    assert check_topic_name("payments.v1") == "payments.v1"
    with pytest.raises(InvalidNameError, match=r"'payments.v1' is not a valid table name"):
        check_table_name("payments.v1")
    long_topic = "p" * 200
    assert check_topic_name(long_topic) == long_topic
    with pytest.raises(InvalidNameError, match=r"would be read as SQL table.*--table NAME"):
        check_table_name(table_name_for_topic(long_topic), long_topic)
    with pytest.raises(InvalidNameError, match=r"reserved word.*--table order_events"):
        check_table_name("order", "order")
    with pytest.raises(InvalidNameError, match="reserved word"):
        check_table_name("Select")


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("payments.v1", "'payments.v1'"),
        ("it's", "'it''s'"),
        ("''", "''''''"),
        ("x' ) WITH ('a' = 'b", "'x'' ) WITH (''a'' = ''b'"),
        ("/home/o'brien/.kappanb", "'/home/o''brien/.kappanb'"),
    ],
)
def test_literal_doubles_single_quotes(text: str, quoted: str) -> None:
    assert literal(text) == quoted
    inner = quoted[1:-1]
    assert "'" not in inner.replace("''", "")  # no lone quote can end the literal early


def test_literal_refuses_nul() -> None:
    with pytest.raises(InvalidNameError, match="NUL"):
        literal("a\x00b")


@pytest.mark.parametrize("identifier", ["", "a\nb", "a\x00b"])
def test_quote_refuses_empty_and_control_characters(identifier: str) -> None:
    with pytest.raises(InvalidNameError, match="empty or has control characters"):
        quote(identifier)
