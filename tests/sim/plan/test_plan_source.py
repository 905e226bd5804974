"""Plan sources: every process builds its own disjoint slice, on demand, from parameters."""

from __future__ import annotations

import pytest

from monilab.contracts.errors import MonilabError
from sim.plan.build import build_plan
from sim.plan.records import write_plan
from sim.plan.source import PlanSource


def _population(agents: int = 12, **changes) -> PlanSource:
    params = dict(kind="population", agents=agents, seed=7, start="2024-03-01", days=3)
    return PlanSource(**{**params, **changes})


def test_population_slices_are_disjoint_cover_every_agent_and_match_the_whole_plan():
    source = _population()
    whole, _ = build_plan(agents=12, seed=7, days=3, start="2024-03-01")
    parts = [list(source.slice(part, 3)) for part in range(3)]
    by_index = {plan.agent_index: plan for part in parts for plan in part}
    assert sorted(by_index) == [plan.agent_index for plan in whole]
    assert [by_index[plan.agent_index] for plan in whole] == whole
    assert all(len(part) == 4 for part in parts)  # contiguous, even ranges


def test_file_slices_stream_every_parts_th_agent(tmp_path):
    plans, _ = build_plan(agents=7, seed=7, days=2, start="2024-03-01")
    path = tmp_path / "plan.jsonl"
    write_plan(path, plans)
    source = PlanSource(kind="file", path=str(path))
    taken = [[p.agent_index for p in source.slice(part, 2)] for part in range(2)]
    assert taken == [[0, 2, 4, 6], [1, 3, 5]]


def test_the_digest_names_the_plan_not_the_paths(tmp_path):
    plans, _ = build_plan(agents=3, seed=7, days=2, start="2024-03-01")
    for name in ("a.jsonl", "b.jsonl"):
        write_plan(tmp_path / name, plans)
    a = PlanSource(kind="file", path=str(tmp_path / "a.jsonl"))
    b = PlanSource(kind="file", path=str(tmp_path / "b.jsonl"))
    assert a.digest() == b.digest()
    assert _population().digest() == _population().digest()
    assert _population(seed=8).digest() != _population().digest()
    assert _population(live_from="2024-03-02T00:00:00").digest() != _population().digest()


def test_a_source_survives_its_json_line():
    source = _population(live_from="2024-03-02T00:00:00")
    assert PlanSource.from_json(source.to_json()) == source
    with pytest.raises(MonilabError, match="kind"):
        PlanSource.from_json('{"kind": "nope"}')


def test_a_worker_index_outside_the_workers_is_one_line():
    with pytest.raises(MonilabError, match="expect-workers"):
        next(_population().slice(3, 3))


def test_live_from_keeps_only_the_live_window():
    live = "2024-03-03T00:00:00"
    for plan in _population(live_from=live).slice(0, 1):
        assert plan.actions and all(a.at.isoformat() >= live for a in plan.actions)
