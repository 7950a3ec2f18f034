from __future__ import annotations

from kappanb.display.html import Raw, html_table, link, text_table


def test_html_table_escapes_headers_and_cells() -> None:
    out = html_table(["<h>", "a&b"], [["<script>alert(1)</script>", 'say "hi"', "it's"]])
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;h&gt;</th>" in out
    assert "a&amp;b</th>" in out
    assert "say &quot;hi&quot;</td>" in out
    assert "it&#x27;s</td>" in out


def test_html_table_structure_and_none() -> None:
    out = html_table(["a", "b"], [[1, None], [2.5, True]])
    assert out.startswith("<table") and out.endswith("</tbody></table>")
    assert out.count("<tr>") == 3
    assert out.count("<th ") == 2
    assert out.count("<td ") == 4
    assert ">1</td>" in out and "></td>" in out and ">2.5</td>" in out and ">True</td>" in out
    assert "None" not in out


def test_html_table_without_rows() -> None:
    out = html_table(["only"], [])
    assert "<tbody></tbody>" in out
    assert ">only</th>" in out


def test_raw_passes_through() -> None:
    out = html_table(["x"], [[Raw("<b>bold</b>")], ["<b>bold</b>"]])
    assert "><b>bold</b></td>" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out


def test_link_escapes_url_and_text() -> None:
    url = 'http://127.0.0.1:8081/#/job/"><script>x</script>?a=1&b=2'
    out = link(url, "<job>")
    assert isinstance(out, Raw)
    assert out.startswith('<a href="http://127.0.0.1:8081/#/job/&quot;&gt;&lt;script&gt;')
    assert "a=1&amp;b=2" in out
    assert "<script>" not in out
    assert ">&lt;job&gt;</a>" in out
    assert 'target="_blank"' in out
    assert f">{out}</td>" in html_table(["link"], [[out]])


def test_text_table_pads_columns_to_widest_cell() -> None:
    out = text_table(["job", "v", "state"], [["daily_merchants", 2, "RUNNING"], ["x", 10, None]])
    assert out.splitlines() == [
        "job              v   state",
        "daily_merchants  2   RUNNING",
        "x                10",
    ]


def test_text_table_header_wider_than_cells() -> None:
    out = text_table(["a long header", "b"], [["x", "y"]])
    lines = out.splitlines()
    assert lines == ["a long header  b", "x              y"]
    assert lines[0].index("b") == lines[1].index("y")


def test_text_table_does_not_escape() -> None:
    assert text_table(["h"], [["<b>&"]]) == "h\n<b>&"


def test_numbers_are_thousands_separated_in_both_forms() -> None:
    out = html_table(["behind", "rate"], [[200_000, 84_922.5]])
    assert ">200,000</td>" in out and ">84,922.5</td>" in out
    assert text_table(["behind"], [[200_000]]).splitlines()[1] == "200,000"
    assert ">True</td>" in html_table(["b"], [[True]])  # a bool is no number


def test_a_path_breaks_only_after_a_slash() -> None:
    from kappanb.display.html import path

    out = html_table(["savepoint"], [[path("file:/tmp/a&b/savepoint-1a2b")]])
    assert "<code>file:/<wbr>tmp/<wbr>a&amp;b/<wbr>savepoint-1a2b</code>" in out
