"""kappanb's endpoint in a real Jupyter server, over a home whose stack is not running:
Jupyter's auth guards it, wrong input gets a 4xx with a message that says what to send,
and `state` still answers when the stack is down."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from kappanb.commands.handlers import COMMANDS
from kappanb.core.schema import Column
from kappanb.registry.records import JobVersion
from tests.server.conftest import Served
from tests.server.jupyter import TOKEN


def test_no_token_no_answer(served: Served) -> None:
    server = served.server
    for response in (server.get("state", token=False), server.get("names", token=False),
                     server.post("stack", {"action": "down"}, token=False),
                     server.post("jobs/counts/promote", {"version": 2}, token=False)):  # fmt: skip
        assert response.status_code == 403  # from Jupyter's own check
        assert "Authorization: token TOKEN" in response.json()["message"]
    wrong = requests.get(server.api("state"), headers={"Authorization": "token nope"}, timeout=30)
    assert wrong.status_code == 403


def test_a_login_cookie_reads_but_posts_only_with_the_xsrf_token(served: Served) -> None:
    session = requests.Session()
    session.get(f"{served.server.url}/login?token={TOKEN}", timeout=30)  # as a browser does
    assert {"_xsrf", "username-127-0-0-1-" + served.server.url.rsplit(":", 1)[1]} <= set(
        session.cookies.keys()
    )
    assert session.get(served.server.api("state"), timeout=30).status_code == 200
    unchecked = session.post(served.server.api("stack"), data='{"action": "sideways"}', timeout=30)
    assert unchecked.status_code == 403 and "_xsrf" in unchecked.json()["message"]
    xsrf = {"X-XSRFToken": session.cookies["_xsrf"] or ""}
    checked = session.post(served.server.api("stack"), data='{"action": "sideways"}',
                           headers=xsrf, timeout=30)  # fmt: skip
    assert checked.status_code == 400  # past Jupyter's checks, refused by kappanb
    assert 'must be "up" or "down"' in checked.json()["message"]


def test_state_with_the_stack_down_shows_the_registry_and_says_how_to_start(
    served: Served,
) -> None:
    response = served.server.get("state")
    assert response.status_code == 200
    state = response.json()
    assert state["home"] == str(served.home)
    assert state["stack"]["running"] is False and state["stack"]["healthy"] is False
    assert {s["name"] for s in state["stack"]["services"]} >= {"kafka", "flink-jobmanager"}
    assert all(s["healthy"] is False and s["pid"] is None for s in state["stack"]["services"])
    assert state["flink_ui"] is None
    assert any("not running" in p and "kappanb up" in p for p in state["problems"])
    (counts,) = [j for j in state["jobs"] if j["name"] == "counts"]
    assert counts["serving"] == 1
    v1, v2 = counts["versions"]
    assert (v1["version"], v1["note"], v2["version"], v2["run"]) == (1, "first", 2, None)
    assert v1["run"] == {
        "id": v1["run"]["id"], "state": "RUNNING", "mode": "live", "bounded": False,
        "behind": None, "caught_up": False, "finished": False, "flink_url": None, "error": "",
        "table": "counts__v1", "held": "", "shown": "RUNNING", "progress": "", "late_dropped": 0,
    }  # fmt: skip


def test_names_are_the_parsers_words_and_the_registrys_names(served: Served) -> None:
    names = served.server.get("names").json()
    assert {"run", "replay", "promote", "watch"} <= set(names["subcommands"])
    assert "--until" in names["flags"]["replay"] and "--force" in names["flags"]["promote"]
    assert names["topics"] == ["merchants.v1", "pay.v1"]
    assert names["sql_tables"] == ["merchant_names", "pay_v1"]
    assert names["topic_of_table"] == {"merchant_names": "merchants.v1", "pay_v1": "pay.v1"}
    assert names["tables"] == ["counts", "counts__v1"]  # the alias, the run's table
    assert names["takes"] == declared_takes()  # what the Lab's completion reads, no list of its own
    assert {"promote", "compact"} <= set(names["takes"]["version"])
    assert "compact" in names["takes"]["job"]
    assert {"produce", "retention", "archive", "forget"} <= set(names["takes"]["topic"])
    assert "--window" in names["flags"]["retention"]
    served.registry.add_version(JobVersion("later", 0, "sql", "SELECT 1", "later", "",
                                           output=(Column("a", "INT"),)))  # fmt: skip
    again = served.server.get("names").json()  # read from the registry on each request
    assert again["jobs"] == ["counts", "later"]
    assert again["versions"] == {"counts": [1, 2], "later": [1]}


def declared_takes() -> dict[str, list[str]]:
    """Which subcommands take a job, a version, a topic: read from each declaration's
    positionals, so a subcommand added later is in the answer without a list to update."""
    at = {"job": 0, "version": 1, "topic": 0}
    return {
        kind: sorted(name for name, command in COMMANDS.items()
                     if command.completes_at(position) == kind)
        for kind, position in at.items()
    }  # fmt: skip


PROMOTE = "jobs/counts/promote"
DOWN = "the stack is not running: start it with `%kappa up`"
WRONG: list[tuple[str, Any, int, str]] = [
    (PROMOTE, '{"version": 2', 400, "the body is not JSON"),
    (PROMOTE, "[2]", 400, "must be a JSON object, not list"),
    (PROMOTE, {}, 400, "'version' is missing; send e.g. {\"version\": 2"),
    (PROMOTE, {"version": "2"}, 400, "'version' must be a whole number"),
    (PROMOTE, {"version": 2.0}, 400, "'version' must be a whole number"),
    (PROMOTE, {"version": True}, 400, "'version' must be a whole number"),
    (PROMOTE, {"version": 0}, 400, "'version' must be 1 or more"),
    (PROMOTE, {"version": 2, "force": "yes"}, 400, "'force' must be true or false"),
    (PROMOTE, {"version": 2, "versoin": 3}, 400, "unknown field 'versoin'"),
    (PROMOTE, {"version": 1}, 400, "counts already serves v1"),
    (PROMOTE, {"version": 9}, 404, "counts has no v9"),
    ("jobs/nosuch/promote", {"version": 1}, 404, "unknown job 'nosuch'"),
    ("jobs/nosuch/rollback", {}, 404, "unknown job 'nosuch'"),
    ("jobs/counts/rollback", {}, 400, "served v1 from the start: nothing to roll back"),
    ("jobs/counts/rollback", {"reason": 3}, 400, "'reason' must be text"),
    ("jobs/counts/stop", None, 400, "'version' is missing"),
    ("jobs/counts/explode", {"version": 1}, 400, "unknown action 'explode'"),
    ("stack", {"action": "explode"}, 400, 'must be "up" or "down"'),
    ("stack", {}, 400, "'action' is missing"),
    ("nowhere", {}, 404, "the routes are GET kappanb/api/state"),
    # The registry allows it; the stack is needed and down: 503 with how to start it.
    (PROMOTE, {"version": 2}, 503, DOWN),
    ("jobs/counts/stop", {"version": 1}, 503, DOWN),
]


@pytest.mark.parametrize(("path", "body", "status", "says"), WRONG)
def test_wrong_input_gets_a_4xx_that_says_what_to_do(
    served: Served, path: str, body: Any, status: int, says: str
) -> None:
    switches = served.registry.switches("counts")
    response = served.server.post(path, body)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert list(response.json()) == ["message"]
    assert says in response.json()["message"]
    assert served.registry.switches("counts") == switches  # nothing switched


def test_a_get_on_a_post_route_says_how_the_routes_are_used(served: Served) -> None:
    response = served.server.get("jobs/counts/promote")
    assert response.status_code == 405
    assert "POST kappanb/api/jobs/JOB/promote" in response.json()["message"]
