import numpy as np
import pytest
import torch

from thresher.murating import bradley_terry as bt


def test_fit_recovers_known_scores_from_simulated_comparisons():
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 1.5, 60)
    truth -= truth.mean()
    a, b = rng.integers(0, 60, 20_000), rng.integers(0, 60, 20_000)
    keep = a != b
    a, b = a[keep], b[keep]
    outcomes = (rng.random(len(a)) < bt.sigmoid(truth[a] - truth[b])).astype(float)
    theta = bt.fit(60, a, b, outcomes, prior_games=0.1)
    assert bt.spearman(theta, truth) > 0.97
    assert np.max(np.abs(theta - truth)) < 0.5  # the scale too, not only the order
    assert abs(theta.mean()) < 1e-9


def test_fit_keeps_an_undefeated_item_finite_and_first():
    theta = bt.fit(3, np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([1.0, 1.0, 1.0]))
    assert np.all(np.isfinite(theta)) and theta[0] > theta[1] > theta[2]


def test_aggregate_follows_the_raters_majority():
    # two raters agree on the order 0 > 1 > 2 > 3, a third reverses it
    scores = {
        "x": np.array([4.0, 3, 2, 1]),
        "y": np.array([8.0, 6, 4, 2]),
        "z": np.array([1.0, 2, 3, 4]),
    }
    a, b = np.array([0, 0, 0, 1, 1, 2]), np.array([1, 2, 3, 2, 3, 3])
    unified = bt.aggregate(scores, a, b)
    assert list(np.argsort(-unified)) == [0, 1, 2, 3]
    report = bt.agreement_report(scores, unified, a, b)
    assert report["raters.x:y.pairwise"] == 1.0 and report["raters.x:z.pairwise"] == 0.0
    assert report["unified:x.spearman"] == pytest.approx(1.0)


def test_preferences_are_scale_free_and_ties_are_half():
    a, b = np.array([0, 1]), np.array([1, 2])
    small = bt.preferences(np.array([0.3, 0.2, 0.2]), a, b, 0.5)
    large = bt.preferences(np.array([30.0, 20, 20]), a, b, 0.5)
    np.testing.assert_allclose(small, large)
    assert small[0] > 0.5 and small[1] == 0.5


def test_pairwise_loss_and_its_gradient():
    delta = torch.tensor([2.0, -1.0, 0.0], requires_grad=True)
    target = torch.tensor([1.0, 0.25, 0.5])
    loss = bt.pairwise_loss(delta, target)
    expected = -(
        target * torch.log(torch.sigmoid(delta)) + (1 - target) * torch.log(torch.sigmoid(-delta))
    ).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    grad = (torch.sigmoid(delta.detach()) - target) / 3  # d/dΔ of the mean
    torch.testing.assert_close(delta.grad, grad)
    # a tie label is minimised at delta = 0, a sure one by a large margin
    assert float(bt.pairwise_loss(torch.zeros(1), torch.tensor([0.5]))) == pytest.approx(np.log(2))


def test_a_pairwise_raters_judgments_join_the_fit():
    rng = np.random.default_rng(4)
    pointwise = {"flat": np.zeros(6)}  # a pointwise rater that cannot tell anything apart
    a, b = rng.integers(0, 6, 200), rng.integers(0, 6, 200)
    # the judge read both documents of each of its own pairs: document 5 beats every other
    ja, jb = np.array([5, 5, 5, 5, 5]), np.array([0, 1, 2, 3, 4])
    judged = {"judge": (ja, jb, np.full(5, 0.9))}
    assert np.allclose(bt.aggregate(pointwise, a, b), 0.0)  # ties everywhere: no order
    theta = bt.aggregate(pointwise, a, b, judged=judged)
    assert np.argmax(theta) == 5 and theta[5] - theta[:5].max() > 0.05
    report = bt.agreement_report(pointwise, theta, a, b, judged)
    assert report["unified:judge.pairwise"] == 1.0 and report["judge.judgments"] == 5.0
