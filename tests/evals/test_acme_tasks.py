"""The suites' shape: counts, categories, families, difficulty, placeholders, seeds."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.acme import datagen
from evals.grading import resolve
from evals.tasks import Task, list_suites, load_suite

KNOWN = {
    "trac_url",
    "files_url",
    "calendar_url",
    "webmail_url",
    "smtp_host",
    "smtp_port",
    "imap_port",
    "chat_url",
    "xmpp_port",
    "xmpp_domain",
    "workspace",
}
CATEGORIES = {"engineering", "project-management", "hr", "finance", "admin", "data-analysis"}


@pytest.fixture(scope="module")
def suites() -> dict[str, list[Task]]:
    return {name: load_suite(name) for name in ("smoke", "acme", "acme-transfer")}


def test_suites_exist() -> None:
    assert {"smoke", "acme", "acme-transfer"} <= set(list_suites())


def test_smoke_is_small_and_cheap(suites: dict[str, list[Task]]) -> None:
    smoke = suites["smoke"]
    assert 1 <= len(smoke) <= 5
    assert all(set(t.spec.apps) <= {"trac", "files"} for t in smoke)
    assert all(t.spec.difficulty == "short" for t in smoke)


def test_acme_size_categories_and_difficulty(suites: dict[str, list[Task]]) -> None:
    acme = suites["acme"]
    assert len(acme) >= 30
    assert {t.spec.category for t in acme} == CATEGORIES
    short = sum(t.spec.difficulty == "short" for t in acme)
    assert 0.25 <= short / len(acme) <= 0.45, short
    for t in acme + suites["acme-transfer"]:
        if t.spec.difficulty == "long":
            assert len(t.spec.apps) >= 2, t.id


def test_families_recur_and_transfer_stays_within_them(suites: dict[str, list[Task]]) -> None:
    families = Counter(t.spec.family for t in suites["acme"])
    assert all(n >= 3 for n in families.values()), families
    transfer = suites["acme-transfer"]
    assert len(transfer) >= 10
    assert {t.spec.family for t in transfer} <= set(families)
    names = [t.name for s in suites.values() for t in s]
    assert len(names) == len(set(names)), "task names are unique across suites"


def test_prompts_fill_every_placeholder(suites: dict[str, list[Task]]) -> None:
    values = {k: f"<{k}>" for k in KNOWN}
    for tasks in suites.values():
        for t in tasks:
            assert set(t.placeholders) <= KNOWN, (t.id, t.placeholders)
            prompt = t.prompt(values)
            assert "{" not in prompt.replace("{sender}", ""), t.id
            for app, key in (("trac", "trac_url"), ("files", "files_url"), ("mail", "webmail_url")):
                if app in t.spec.apps:
                    assert f"<{key}>" in prompt, (t.id, key)


def test_missing_placeholder_is_an_error(suites: dict[str, list[Task]]) -> None:
    with pytest.raises(KeyError, match="trac_url"):
        suites["smoke"][0].prompt({})


def test_graders_and_solutions_resolve(suites: dict[str, list[Task]]) -> None:
    for tasks in suites.values():
        for t in tasks:
            assert callable(resolve(t.spec.grader)), t.id
            assert callable(resolve(t.spec.solution)), t.id
            for f in t.spec.seed.files:
                assert f.text(), (t.id, f.path)


def test_generated_data_is_deterministic() -> None:
    assert datagen.expenses_csv(3) == datagen.expenses_csv(3)
    assert datagen.expenses_csv(3) != datagen.expenses_csv(4)
    assert datagen.sales_totals(2) == datagen.sales_totals(2)
