"""Suites: the built-in ones load, every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitbench.errors import UsageError
from splitbench.harness.runner import plan
from splitbench.harness.suite import builtin_suites, load_suite, parse_suite
from splitbench.methods import METHODS

BASE = """
[[families]]
family = "tiny"
seed = [0, 1]

[[methods]]
method = ["exhaustive", "fin"]
"""


@pytest.mark.parametrize("name", sorted(builtin_suites()))
def test_builtin_suites_load(name: str) -> None:
    suite = load_suite(name)
    assert suite.name == name and suite.description
    assert suite.methods and (suite.families or suite.instance_files)


def test_smoke_covers_every_method_and_every_backend() -> None:
    suite = load_suite("smoke")
    methods = {m for entry in suite.methods for m in entry.methods}
    assert methods == set(METHODS.names())
    solvers = set(suite.solvers) | {s for e in suite.methods for s in e.solvers or ()}
    assert {"highs", "pyomo-highs", "cbc", "pyomo:cbc", "scip"} <= solvers


def test_grid_and_seeds_expand() -> None:
    suite = parse_suite(
        BASE.replace("seed = [0, 1]", "seed = { start = 3, count = 3 }")
        + '\n[[methods]]\nmethod = "fin"\n'
        + 'param = { gamma = [3, 30], rounding = ["step", "arc"] }\n',
        "demo.toml",
    )
    instances, tasks = plan(suite)
    assert [p.seed for p in instances] == [3, 4, 5]
    # 3 instances x (exhaustive, fin defaults, 4 fin grid points)
    assert len(tasks) == 3 * 6
    assert len({t.run_id for t in tasks}) == len(tasks)


def test_time_limit_override_and_repetitions() -> None:
    suite = parse_suite("time-limit = 7\nrepetitions = 2\n" + BASE, "demo.toml")
    _, tasks = plan(suite)
    assert {t.time_limit_s for t in tasks} == {7.0}
    assert {t.repetition for t in tasks} == {0, 1}
    _, tasks = plan(suite, time_limit_s=3.0)
    assert {t.time_limit_s for t in tasks} == {3.0}


def test_solver_methods_take_the_solver_list() -> None:
    suite = parse_suite(
        'solver = ["highs", "cbc"]\n' + BASE + '\n[[methods]]\nmethod = "routing-milp"\n',
        "demo.toml",
    )
    _, tasks = plan(suite)
    assert {t.solver for t in tasks if t.method == "routing-milp"} == {"highs", "cbc"}
    assert {t.solver for t in tasks if t.method == "fin"} == {None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("time-limit = 0\n" + BASE, "demo.toml: time-limit: must be a positive"),
        ("timelimit = 3\n" + BASE, "demo.toml: timelimit: unknown key"),
        ("repetitions = 0\n" + BASE, "demo.toml: repetitions: must be a whole number"),
        ('solver = "gurobi"\n' + BASE, "demo.toml: solver: unknown solver 'gurobi'"),
        (BASE.replace('"tiny"', '"tny"'), "demo.toml: families[0].family: unknown family 'tny'"),
        (BASE.replace('"fin"]', '"fn"]'), "demo.toml: methods[0].method: unknown method 'fn'"),
        (BASE.replace("seed = [0, 1]", "seed = [-1]"), "demo.toml: families[0].seed: seeds are"),
        (BASE.replace("seed = [0, 1]", "sed = 1"), "demo.toml: families[0].sed: unknown key"),
        (
            BASE.replace("seed = [0, 1]", "param = { max_nodes = 99 }"),
            "demo.toml: families[0].param: --param max_nodes=99",
        ),
        (
            BASE + '\n[[methods]]\nmethod = "fin"\nparam = { gamma = "x" }\n',
            "demo.toml: methods[1].param: --param gamma=x",
        ),
        (
            BASE + '\n[[methods]]\nmethod = "fin"\nparam = { gama = 3 }\n',
            "demo.toml: methods[1].param: --param gama: method 'fin' takes no such",
        ),
        (BASE + '\n[[methods]]\nmethod = "fin"\nparam = { gamma = [] }\n', "an empty list"),
        ("[[families]]\nfamily = 'tiny'\n", "demo.toml: methods: a suite needs at least one"),
        ("[[methods]]\nmethod = 'fin'\n", "demo.toml: families: a suite needs"),
        ('instances = "nothing-*.json"\n[[methods]]\nmethod = "fin"\n', "matches no file"),
        ("[[families]\n", "demo.toml: not valid TOML"),
        ('plugin = "no_such_module_xyz"\n' + BASE, "demo.toml: plugin: --plugin no_such"),
    ],
)
def test_mistakes_name_the_file_and_key(text: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_suite(text, "demo.toml")
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_suite_lists_the_builtin_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"built-in: .*smoke"):
        load_suite(str(tmp_path / "nope.toml"))


def test_instance_files_are_found_beside_the_suite(tmp_path: Path) -> None:
    from splitbench.instance import example_instance, save_instance

    save_instance(example_instance(), tmp_path / "a.json")
    path = tmp_path / "mine.toml"
    path.write_text('instances = ["*.json"]\n[[methods]]\nmethod = "fin"\n')
    suite = load_suite(path)
    instances, tasks = plan(suite)
    assert [p.family for p in instances] == ["file"]
    assert tasks[0].seed is None and tasks[0].instance_name == "fin-b-alexnet-cifar10"


def test_quick_drops_the_tables_marked_so_and_the_paper_suite_has_one() -> None:
    suite = load_suite("fin-paper")
    quick = suite.quick()
    assert len(quick.families) < len(suite.families)
    assert len(quick.methods) < len(suite.methods)
    assert all(f.quick for f in quick.families) and all(m.quick for m in quick.methods)
    with pytest.raises(UsageError, match=r"demo\.toml: families\[0\]\.quick: expected true or"):
        parse_suite(BASE.replace('family = "tiny"', 'family = "tiny"\nquick = 1'), "demo.toml")
    only_full = BASE.replace('fin"]', 'fin"]\nquick = false')
    with pytest.raises(UsageError, match="quick variant leaves nothing to run"):
        parse_suite(only_full, "demo.toml").quick()
