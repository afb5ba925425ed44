"""Family multi-tiny: the named resource binds, so the uncoupled optimum never fits."""

from __future__ import annotations

import pytest

from splitbench.evaluate_multi import evaluate_multi
from splitbench.families import generate
from splitbench.families.multi_tiny import BINDS, uncoupled_optima
from splitbench.instance import MultiInstance, instance_id
from splitbench.placement import MultiPlacement

WORDS = {"compute": "compute load", "link": "link load", "memory": "memory"}


@pytest.mark.parametrize("binds", BINDS)
def test_the_uncoupled_optimum_breaks_exactly_the_named_kind(binds: str) -> None:
    for seed in range(25):
        inst = generate("multi-tiny", {"binds": binds}, seed=seed)
        assert isinstance(inst, MultiInstance) and 2 <= len(inst.requests) <= 3
        optima = uncoupled_optima(inst)
        assert optima is not None
        placement = MultiPlacement(tuple((rid, optima[rid]) for rid in inst.request_ids))
        broken = evaluate_multi(inst, placement).violations
        assert any(WORDS[binds] in v for v in broken), (inst.name, broken)
        if binds == "memory":  # rates keep compute and links below 0.3
            assert not any("load" in v for v in broken), broken


def test_a_seed_is_one_instance() -> None:
    a = generate("multi-tiny", {"binds": "link", "max_requests": 5}, seed=7)
    b = generate("multi-tiny", {"binds": "link", "max_requests": 5}, seed=7)
    assert instance_id(a) == instance_id(b)
    assert instance_id(a) != instance_id(generate("multi-tiny", {"binds": "link"}, seed=8))
