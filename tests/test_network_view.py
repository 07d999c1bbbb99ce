"""The team as a network (int_sim.network_view): frames taken from a day-by-day model run."""

from __future__ import annotations

import numpy as np
import pytest

from int_sim import network_view as nv
from int_sim.app import core


def small(name: str = "small_colocated", residents: int = 3_000, days: int = 60, **overrides):
    scenario = nv.neighbourhood(core.load_preset(name), residents, days)
    return scenario.with_overrides(overrides) if overrides else scenario


@pytest.fixture(scope="module")
def history():
    return nv.record_network(small(), seed=3, every=10)


def test_neighbourhood_scales_the_team_and_starts_without_warm_up():
    base = core.load_preset("small_colocated")
    scenario = nv.neighbourhood(base, 3_000, 90)
    assert scenario.population.size == 3_000
    assert scenario.simulation.days == 90 and scenario.simulation.warmup_days == 0
    assert scenario.team.staff.total() == pytest.approx(base.team.staff.total() * 3_000 / base.population.size, rel=1e-2)
    assert scenario.team.co_location == base.team.co_location
    assert nv.neighbourhood(base, 10**9, 10**6).population.size == nv.MAX_RESIDENTS  # bounded


def test_one_frame_at_the_start_and_one_every_few_days(history):
    assert len(history.frames) == 60 // 10 + 1
    assert [f.day for f in history.frames] == [0, 10, 20, 30, 40, 50, 60]
    n = len(history.posts)
    assert n >= 5 and len(history.organisations) >= 2
    for frame in history.frames:
        assert frame.trust.shape == (n, n)
        assert frame.occupied.shape == frame.funded.shape == (n,)


def test_trust_stays_in_the_unit_interval_and_starts_at_stranger_trust(history):
    for frame in history.frames:
        assert np.isfinite(frame.trust).all()
        assert frame.trust.min() >= 0.0 and frame.trust.max() <= 1.0
    start = history.frames[0]
    off_diagonal = start.trust[~np.eye(len(history.posts), dtype=bool)]
    assert np.allclose(off_diagonal, history.stranger_trust)
    assert history.frames[-1].mean_trust() > start.mean_trust(), "a co-located integrated team builds trust"


def test_referrals_link_different_posts_and_are_counted_per_window(history):
    n = len(history.posts)
    assert history.frames[0].referrals == ()
    total = 0
    for frame in history.frames:
        for a, b, count in frame.referrals:
            assert 0 <= a < n and 0 <= b < n and count >= 1
        total += frame.referral_count()
    assert total > 0


def test_a_leaver_leaves_a_vacant_post_that_is_drawn_as_vacant():
    scenario = small(days=120, **{"workforce.annual_turnover": 1.0, "workforce.vacancy_fill_days": 400})
    history = nv.record_network(scenario, seed=5, every=5)
    frames_with_vacancies = [f for f in history.frames if f.vacant.any()]
    assert frames_with_vacancies, "with everyone leaving within a year and slow refills, some post is vacant"
    left = [(f, k) for f in history.frames for k in f.left]
    assert left
    for frame, k in left:
        if k not in frame.joined:
            assert not frame.occupied[k] and frame.vacant[k]
    # the drawing shows a vacant post hollow: its marker is white inside
    from matplotlib.figure import Figure
    frame_index = history.frames.index(frames_with_vacancies[0])
    ax = Figure().subplots()
    artists = nv.draw_frame(history, frame_index, ax)
    faces = [tuple(np.round(c, 3)) for a in artists if hasattr(a, "get_facecolors") for c in a.get_facecolors()]
    assert (1.0, 1.0, 1.0, 1.0) in faces


def test_a_funding_cliff_leaves_posts_unfunded():
    scenario = small(days=60, **{"team.funding_stability": "short_term", "team.funding_term_days": 30,
                                 "workforce.funding_cliff_post_loss": 0.5})
    history = nv.record_network(scenario, seed=1, every=10)
    assert history.frames[0].funded.all()
    assert not history.frames[-1].funded.all()


def test_same_seed_same_frames_other_seed_other_frames(history):
    again = nv.record_network(small(), seed=3, every=10)
    other = nv.record_network(small(), seed=4, every=10)
    assert len(again.frames) == len(history.frames)
    for a, b in zip(history.frames, again.frames):
        assert a.day == b.day and a.referrals == b.referrals and a.joined == b.joined and a.left == b.left
        np.testing.assert_array_equal(a.trust, b.trust)
        np.testing.assert_array_equal(a.occupied, b.occupied)
        np.testing.assert_array_equal(a.funded, b.funded)
    assert any(a.referrals != b.referrals for a, b in zip(history.frames, other.frames))


def test_a_fragmented_team_builds_less_trust_than_a_co_located_one():
    together = nv.record_network(small("small_colocated", days=90), seed=2, every=30)
    apart = nv.record_network(small("fragmented", days=90), seed=2, every=30)
    assert together.frames[-1].mean_trust() > apart.frames[-1].mean_trust()


def test_summary_rows_and_animation(history):
    rows = history.summary_rows()
    assert [r["day"] for r in rows] == [f.day for f in history.frames]
    assert all(r["in post"] + r["vacant"] <= len(history.posts) for r in rows)
    short = nv.NetworkHistory(scenario=history.scenario, seed=history.seed, replication=0, every=history.every,
                              posts=history.posts, organisations=history.organisations,
                              stranger_trust=history.stranger_trust, frames=history.frames[:3])
    page = nv.animation_html(short)
    assert page.count("data:image/png;base64,") >= 4  # three frames and the legend
    assert "anim" in page and 'title="Play"' in page  # matplotlib's player: play, pause and step buttons
    assert "http://" not in page and "https://" not in page, "self-contained: no icons fetched from a CDN"
    assert 'class="fa' not in page
    fig = nv.network_figure(history)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "community nurse" in labels and any(label.startswith("vacant post") for label in labels)


def test_watching_does_not_change_the_run(history):
    """The frames come from the model's own run: the last one equals an unwatched run's end state."""
    from int_sim.experiment import replication_seeds
    from int_sim.model import NeighbourhoodModel

    model = NeighbourhoodModel(history.scenario, replication_seeds(history.seed, history.replication))
    model.run()
    last = history.frames[-1]
    assert last.day == model.total_days
    np.testing.assert_array_equal(last.trust, np.clip(model.workforce.trust, 0.0, 1.0))
    np.testing.assert_array_equal(last.occupied, [p.occupant is not None for p in model.workforce.posts])
