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


def test_a_bounded_clusterer_forgets_old_templates_but_keeps_working() -> None:
    clusterer = LogClusterer(max_clusters=10)
    ids = {clusterer.add(f"job{chr(97 + i % 26)}{chr(97 + i // 26)} finished cleanly").template_id for i in range(200)}
    assert len(ids) > 10  # more templates were handed out than the bound keeps
    found = clusterer.add("payment retried twice")
    assert found.template == "payment retried twice" and clusterer.template_for(found.template_id) == found.template
