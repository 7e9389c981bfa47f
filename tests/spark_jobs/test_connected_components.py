"""Connected components, distributed and on the driver, on graphs whose answer is known."""

import pytest

from spark_jobs.connected_components import connected_components


@pytest.fixture(params=[0, 1000], ids=["distributed", "driver"])
def components(request):
    def solve(spark, edges):
        frame = spark.createDataFrame(edges, "src string, dst string")
        found = connected_components(frame, driver_max_edges=request.param)
        return {r["node"]: r["component"] for r in found.collect()}

    return solve


def test_a_long_chain_is_one_component(spark, components):
    nodes = [f"n{i:03d}" for i in range(40)]
    edges = list(zip(nodes[1:], nodes[:-1], strict=True))
    assert components(spark, edges) == {n: "n000" for n in nodes}


def test_a_star_and_disjoint_pieces(spark, components):
    star = [("hub", f"leaf{i}") for i in range(6)]
    pieces = [("x", "y"), ("y", "z"), ("p", "q")]
    result = components(spark, star + pieces)
    assert {n: c for n, c in result.items() if n.startswith(("hub", "leaf"))} == {
        n: "hub" for n in ["hub", *[f"leaf{i}" for i in range(6)]]
    }
    assert {n: result[n] for n in "xyzpq"} == {"x": "x", "y": "x", "z": "x", "p": "p", "q": "p"}


def test_self_loops_and_repeated_edges_change_nothing(spark, components):
    assert components(spark, [("b", "a"), ("a", "b"), ("a", "a"), ("c", "b")]) == {
        "a": "a",
        "b": "a",
        "c": "a",
    }


def test_both_ways_agree_on_a_random_graph_of_non_ascii_nodes(spark):
    import random

    draw = random.Random(7)
    nodes = [f"2026-12-0{draw.randint(1, 9)}/{draw.choice('aé日Z')}{i}" for i in range(300)]
    edges = [(draw.choice(nodes), draw.choice(nodes)) for _ in range(200)]
    frame = spark.createDataFrame(edges, "src string, dst string")
    rounds = connected_components(frame).collect()
    driver = connected_components(frame, driver_max_edges=10_000).collect()
    assert sorted(map(tuple, driver)) == sorted(map(tuple, rounds))


def test_an_empty_graph_has_no_components(spark, components):
    assert components(spark, []) == {}


def test_numbered_nodes_get_their_smallest_number_both_ways(spark):
    edges = [(9, 4), (4, 7), (12, 30), (30, 11)]
    frame = spark.createDataFrame(edges, "src long, dst long")
    for limit in (0, 100):
        found = connected_components(frame, driver_max_edges=limit).collect()
        assert {r["node"]: r["component"] for r in found} == {
            4: 4,
            7: 4,
            9: 4,
            11: 11,
            12: 11,
            30: 11,
        }
