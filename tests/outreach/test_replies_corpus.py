"""Our rules against 600 real bounces, auto-replies and complaint reports (sisimai's
public corpus, read from beside the checkout; skipped where it is absent)."""

from __future__ import annotations

import pytest

from tests.benchmarks.report import print_table
from tests.outreach.bounce_corpus import confusion_rows, corpus_cases, corpus_dir, corpus_score

CORPUS = corpus_dir()
pytestmark = pytest.mark.skipif(CORPUS is None, reason="bounce corpus not found (JENGU_CORPUS_DIR)")


@pytest.fixture(scope="module")
def score():
    return corpus_score(corpus_cases(CORPUS))


def test_real_bounces_are_recognised_and_judged_like_sisimai(score):
    print_table("Bounce corpus: sisimai's verdict (rows) against our label", *confusion_rows(score))

    assert score.crashes == []
    assert score.recognised_share >= 0.98, score.missed
    assert score.agreement >= 0.90, score.disagreements


def test_no_report_is_ever_taken_for_interest(score):
    assert score.reports_as_interest == []
    complaints = {
        label: n
        for (expected, label), n in score.confusion.items()
        if expected == "complaint report"
    }
    # Apple Mail's one-click unsubscribe is filed as an opt-out report: we read it as one.
    assert set(complaints) <= {"complaint", "unsubscribe"}
