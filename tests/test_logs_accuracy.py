"""Log clustering accuracy on a labelled corpus (Loghub's grouping accuracy), against plain drain3."""

from __future__ import annotations

import pytest

from launchready.intake.logs import LogClusterer, cluster_lines
from tests.logcorpus import grouping_accuracy, labelled_corpus, with_headers


@pytest.mark.parametrize("seed", [1, 2, 12])
@pytest.mark.parametrize("raw", [False, True])
def test_masked_clustering_groups_at_least_as_well_as_plain_drain3(seed: int, raw: bool) -> None:
    corpus = labelled_corpus(2000, seed)
    if raw:
        corpus = with_headers(corpus, seed)
    lines = [text for text, _ in corpus]
    truth = [name for _, name in corpus]
    ours = grouping_accuracy([r["template_id"] for r in cluster_lines(lines, LogClusterer())], truth)
    plain = grouping_accuracy(
        [r["template_id"] for r in cluster_lines(lines, LogClusterer(premask=False, sim_th=0.4))], truth
    )
    assert ours >= plain
    assert ours >= (0.9 if raw else 0.99)
