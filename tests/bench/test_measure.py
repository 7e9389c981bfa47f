"""The benchmarks' memory sampler counts a page shared by a process and its fork once."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import psutil
import pytest

from bench.measure import tree_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PSS is Linux's")
def test_a_forked_child_shares_its_parents_pages_and_counts_once():
    held = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
    root = psutil.Process()
    alone = tree_memory(root)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the copy-on-write child: touches nothing, waits to be killed
        os.close(read)
        os.write(write, b"x")
        signal.pause()
        os._exit(0)
    try:
        os.read(read, 1)
        rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        together = tree_memory(root)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    assert held.nbytes <= alone
    assert rss > alone + held.nbytes * 0.9  # summed RSS counts the shared 200 MiB twice
    assert together < alone + held.nbytes * 0.2
