"""Distributed connected components on graphs whose answer is known."""

from spark_jobs.connected_components import connected_components


def components(spark, edges):
    frame = spark.createDataFrame(edges, "src string, dst string")
    return {r["node"]: r["component"] for r in connected_components(frame).collect()}


def test_a_long_chain_is_one_component(spark):
    nodes = [f"n{i:03d}" for i in range(40)]
    edges = list(zip(nodes[1:], nodes[:-1], strict=True))
    assert components(spark, edges) == {n: "n000" for n in nodes}


def test_a_star_and_disjoint_pieces(spark):
    star = [("hub", f"leaf{i}") for i in range(6)]
    pieces = [("x", "y"), ("y", "z"), ("p", "q")]
    result = components(spark, star + pieces)
    assert {n: c for n, c in result.items() if n.startswith(("hub", "leaf"))} == {
        n: "hub" for n in ["hub", *[f"leaf{i}" for i in range(6)]]
    }
    assert {n: result[n] for n in "xyzpq"} == {"x": "x", "y": "x", "z": "x", "p": "p", "q": "p"}


def test_self_loops_and_repeated_edges_change_nothing(spark):
    assert components(spark, [("b", "a"), ("a", "b"), ("a", "a"), ("c", "b")]) == {
        "a": "a",
        "b": "a",
        "c": "a",
    }
