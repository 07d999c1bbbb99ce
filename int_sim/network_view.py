"""The team as a network, day by day: who is in post, whom they trust, who refers to whom.

:func:`record_network` runs one replication of a small neighbourhood through
:class:`int_sim.model.NeighbourhoodModel`, one day at a time on the model's own clock, and every
few days takes a :class:`Frame`: which posts are filled, funded or vacant, the pairwise trust
matrix between posts, and the referrals between professionals since the previous frame (each
pair of consecutive professionals who acted on one resident's episode). :func:`draw_frame` draws a
frame with matplotlib, and :func:`animation_html` turns the frames into a self-contained HTML
animation with play controls (``matplotlib.animation.FuncAnimation.to_jshtml``), which the
app's Teach page embeds.

Why a separate run: the comparison runs keep only totals; the network view needs the team's
state on the way. The run here is an ordinary replication (streams from
:func:`int_sim.experiment.replication_seeds`, so the same seed sees the same residents in every
configuration), started without a warm-up so that trust is seen forming from strangers, and
calibrated on its own state (no counterfactual run, which the view does not need). It only reads
the model's attributes (``workforce.posts``, ``workforce.trust``, ``care``'s open episodes); it never
changes them, so the run is the same as the model's own.

Referrals are read from each open episode's ``professionals`` list once a day; an episode that
opens and closes within a single day is not seen (rare: every action lasts days).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch

from .plots import OKABE_ITO
from .scenario import ROLES, Scenario

ROLE_LABELS = {
    "gp": "GP", "community_nurse": "community nurse", "therapist": "therapist", "social_worker": "social worker",
    "mental_health": "mental health", "social_prescriber": "social prescriber", "housing_officer": "housing officer",
    "care_navigator": "care navigator",
}
ROLE_COLOURS = dict(zip(ROLES, ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#8C8C8C"]))
"""One colour per role: the seven Okabe-Ito colours (readable with the common forms of colour
blindness) and grey; black is kept for referrals."""
TRUST_COLOUR = "#8A8A8A"
REFERRAL_COLOUR = OKABE_ITO["black"]

DEFAULT_RESIDENTS = 6_000
MAX_RESIDENTS = 20_000
"""The view is for a small neighbourhood: a few dozen posts at most stay legible."""
MAX_DAYS = 730


@dataclass(frozen=True)
class PostInfo:
    """A post of the team (fixed for the run): its role and its employing organisation."""

    index: int
    role: str
    organisation: str
    wte: float


@dataclass(frozen=True)
class Frame:
    """The team on one day (``day`` days simulated; day 0 is the team as it starts)."""

    day: int
    occupied: np.ndarray
    """Per post: someone is in post today."""
    funded: np.ndarray
    """Per post: the post is funded (a post loses its funding at a funding cliff)."""
    trust: np.ndarray
    """Posts x posts trust between the people in post, in [0, 1] (stale rows of vacant posts are kept)."""
    referrals: tuple[tuple[int, int, int], ...]
    """(from post, to post, count) of hand-offs between different professionals since the last frame."""
    joined: tuple[int, ...]
    """Posts filled by someone new since the last frame."""
    left: tuple[int, ...]
    """Posts whose holder left since the last frame."""

    @property
    def vacant(self) -> np.ndarray:
        """Funded posts with nobody in them."""
        return self.funded & ~self.occupied

    def mean_trust(self) -> float:
        """Mean trust between pairs of people in post (NaN with fewer than two)."""
        idx = np.flatnonzero(self.occupied)
        if len(idx) < 2:
            return float("nan")
        block = self.trust[np.ix_(idx, idx)]
        return float((block.sum() - np.trace(block)) / (len(idx) * (len(idx) - 1)))

    def referral_count(self) -> int:
        return int(sum(c for _, _, c in self.referrals))


@dataclass
class NetworkHistory:
    """Frames of one run, and what is needed to draw and caption them."""

    scenario: Scenario
    seed: int
    replication: int
    every: int
    posts: list[PostInfo]
    organisations: list[str]
    stranger_trust: float
    frames: list[Frame] = field(default_factory=list)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per frame: day, posts filled, vacant, mean trust, referrals, joined, left."""
        return [{"day": f.day, "in post": int(f.occupied.sum()), "vacant": int(f.vacant.sum()),
                 "mean trust": f.mean_trust(), "referrals": f.referral_count(), "joined": len(f.joined),
                 "left": len(f.left)} for f in self.frames]


def neighbourhood(scenario: Scenario, residents: int = DEFAULT_RESIDENTS, days: int = 365) -> Scenario:
    """The scenario as a small neighbourhood: ``residents`` residents with staff and practices scaled
    in proportion (:func:`int_sim.app.core.scale_to_size`), ``days`` days and no warm-up."""
    from .app.core import scale_to_size
    residents = int(min(max(residents, 500), MAX_RESIDENTS))
    days = int(min(max(days, 30), MAX_DAYS))
    small = scale_to_size(scenario, residents) if scenario.population.size != residents else scenario
    return small.with_overrides({"simulation.days": days, "simulation.warmup_days": 0}, source=scenario.name)


def record_network(scenario: Scenario, *, seed: int = 42, replication: int = 0, every: int = 7) -> NetworkHistory:
    """Run ``scenario`` (as given: see :func:`neighbourhood`) and take a frame every ``every`` days.

    Frames are taken on day 0 (before the first day) and after every ``every`` days, so a run of
    D days gives ``D // every + 1`` frames. The same scenario, seed and replication give the same
    frames.
    """
    from .experiment import replication_seeds
    from .model import NeighbourhoodModel

    if every < 1:
        raise ValueError("every must be at least one day")
    model = NeighbourhoodModel(scenario, replication_seeds(seed, replication))
    workforce, care = model.workforce, model.care
    posts = workforce.posts
    organisations = list(dict.fromkeys([p.organisation.name for p in posts]))
    history = NetworkHistory(scenario=scenario, seed=seed, replication=replication, every=every,
                             posts=[PostInfo(p.index, p.role, p.organisation.name, float(p.wte)) for p in posts],
                             organisations=organisations, stranger_trust=float(workforce.stranger_trust))
    index_of = {id(p): p.index for p in posts}

    occupants = [p.occupant for p in posts]
    tracked: dict[int, int] = {}  # episode number -> professionals already counted
    referrals: dict[tuple[int, int], int] = {}
    joined: set[int] = set()
    left: set[int] = set()

    def snapshot() -> None:
        history.frames.append(Frame(
            day=model.day,
            occupied=np.array([p.occupant is not None for p in posts], dtype=bool),
            funded=np.array([bool(p.funded) for p in posts], dtype=bool),
            trust=np.clip(np.array(workforce.trust, dtype=float, copy=True), 0.0, 1.0),
            referrals=tuple(sorted((a, b, c) for (a, b), c in referrals.items())),
            joined=tuple(sorted(joined)), left=tuple(sorted(left))))
        referrals.clear()
        joined.clear()
        left.clear()

    def observe() -> None:
        for k, post in enumerate(posts):
            before, now = occupants[k], post.occupant
            if now is not before:
                if before is not None:
                    left.add(k)
                if now is not None:
                    joined.add(k)
                occupants[k] = now
        for episode in care.open_episode_numbers().tolist():
            tracked.setdefault(episode, 0)
        for episode, counted in list(tracked.items()):
            people = care.professionals(episode)
            for k in range(max(counted, 1), len(people)):
                a = index_of.get(id(people[k - 1].post))
                b = index_of.get(id(people[k].post))
                if a is not None and b is not None and a != b:
                    referrals[(a, b)] = referrals.get((a, b), 0) + 1
            tracked[episode] = len(people)
            if care.is_closed(episode):
                del tracked[episode]

    def clock():
        # The model's own clock (NeighbourhoodModel.run): a day's step, then the day's care events.
        while model.day < model.total_days:
            model.step()
            model.day += 1
            yield model.env.timeout(1)

    snapshot()
    model.env.process(clock())
    for day in range(1, model.total_days + 1):
        model.env.run(until=day)
        observe()
        if day % every == 0:
            snapshot()
    return history


# --- drawing -----------------------------------------------------------------------------------

def layout(history: NetworkHistory) -> np.ndarray:
    """Fixed (x, y) of every post: organisations on a circle, each one's posts in a ring around it."""
    organisations = history.organisations
    n_org = len(organisations)
    by_org = {o: [p.index for p in history.posts if p.organisation == o] for o in organisations}
    positions = np.zeros((len(history.posts), 2))
    for k, org in enumerate(organisations):
        angle = math.pi / 2 - 2 * math.pi * k / max(n_org, 1)
        centre = np.array([math.cos(angle), math.sin(angle)]) * (1.0 if n_org > 1 else 0.0)
        members = by_org[org]
        radius = 0.0 if len(members) == 1 else min(0.32, 0.09 + 0.035 * len(members))
        for j, index in enumerate(members):
            a = angle + 2 * math.pi * j / max(len(members), 1)
            positions[index] = centre + radius * np.array([math.cos(a), math.sin(a)])
    return positions


def organisation_centres(history: NetworkHistory, positions: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    centres = {}
    for org in history.organisations:
        members = [p.index for p in history.posts if p.organisation == org]
        centre = positions[members].mean(axis=0)
        radius = max(float(np.max(np.linalg.norm(positions[members] - centre, axis=1))), 0.0) + 0.14
        centres[org] = (centre, radius)
    return centres


ORGANISATION_LABELS = {"vcse": "voluntary sector", "community_health": "community health",
                       "social_care": "social care", "mental_health_trust": "mental health trust", "housing": "housing"}


def organisation_label(name: str) -> str:
    return ORGANISATION_LABELS.get(name, name.replace("practice_", "GP practice ").replace("_", " "))


def draw_background(history: NetworkHistory, ax, positions: np.ndarray | None = None) -> None:
    """What does not change between frames: the organisations as labelled discs."""
    positions = layout(history) if positions is None else positions
    ax.clear()
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.5, 1.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    for org, (centre, radius) in organisation_centres(history, positions).items():
        ax.add_artist(Circle(centre, radius, facecolor="#F4F4F4", edgecolor="#BBBBBB", lw=0.8, zorder=0))
        norm = float(np.linalg.norm(centre))
        offset = centre / norm * (radius + 0.1) if norm else np.array([0.0, radius + 0.1])
        ax.text(*(centre + offset), organisation_label(org), ha="center", va="center", fontsize=7, color="#444444")


def draw_frame(history: NetworkHistory, k: int, ax, *, threshold: float | None = None,
               positions: np.ndarray | None = None, background: bool = True) -> list:
    """Draw frame ``k`` on ``ax``: nodes by role, grouped by organisation; trust above
    ``threshold`` as grey edges (width and opacity grow with trust); referrals since the last
    frame as black arrows; vacant posts hollow, dashed and crossed; people who joined ringed in
    black. With ``background=False`` only the frame's own artists are drawn (for animation);
    they are returned so the caller can remove them before the next frame."""
    frame = history.frames[k]
    positions = layout(history) if positions is None else positions
    threshold = trust_threshold(history) if threshold is None else threshold
    if background:
        draw_background(history, ax, positions)
    artists: list = []
    occupied = frame.occupied
    n = len(history.posts)
    segments, widths, colours = [], [], []
    for i in range(n):
        for j in range(i + 1, n):
            if not (occupied[i] and occupied[j]):
                continue
            t = 0.5 * (frame.trust[i, j] + frame.trust[j, i])
            if t < threshold:
                continue
            strength = (t - threshold) / max(1e-9, 1.0 - threshold)
            segments.append(positions[[i, j]])
            widths.append(0.4 + 3.6 * strength)
            colours.append(to_rgba(TRUST_COLOUR, 0.15 + 0.65 * strength))
    if segments:
        artists.append(ax.add_collection(LineCollection(segments, linewidths=widths, colors=colours, zorder=1, capstyle="round")))
    most = max((c for _, _, c in frame.referrals), default=1)
    for a, b, count in frame.referrals:
        if a == b:
            continue
        # shortened by hand so the arrow stops at the node (matplotlib's own shrinking is slow);
        # add_artist, not add_patch: the limits are fixed, so no autoscaling either
        start, end = positions[a], positions[b]
        gap = (end - start) / max(float(np.linalg.norm(end - start)), 1e-9) * 0.06
        artists.append(ax.add_artist(FancyArrowPatch(start + gap, end - gap, arrowstyle="-|>", mutation_scale=9,
                                                     connectionstyle="arc3,rad=0.18", color=REFERRAL_COLOUR,
                                                     lw=0.6 + 1.8 * count / most, alpha=0.8, zorder=2,
                                                     shrinkA=0, shrinkB=0)))
    sizes = np.array([70 + 90 * p.wte for p in history.posts])
    role_colours = np.array([to_rgba(ROLE_COLOURS[p.role]) for p in history.posts])
    unfunded = ~frame.funded
    vacant = frame.funded & ~occupied
    filled = frame.funded & occupied
    new = np.zeros(n, dtype=bool)
    new[list(frame.joined)] = True
    new &= filled
    if unfunded.any():
        artists.append(ax.scatter(*positions[unfunded].T, s=sizes[unfunded], facecolor="white", edgecolor="#BBBBBB", linewidth=0.8,
                   linestyle=":", zorder=3))
    if vacant.any():
        artists.append(ax.scatter(*positions[vacant].T, s=sizes[vacant], facecolor="white", edgecolor=role_colours[vacant],
                   linewidth=1.6, linestyle="--", zorder=3))
        artists.append(ax.scatter(*positions[vacant].T, s=25, marker="x", color="#444444", linewidth=1.0, zorder=4))
    if filled.any():
        artists.append(ax.scatter(*positions[filled].T, s=sizes[filled], c=role_colours[filled],
                   edgecolor=np.where(new[filled, None], to_rgba("#000000"), to_rgba("white")),
                   linewidth=np.where(new[filled], 2.4, 0.8), zorder=3))
    artists.append(ax.set_title(frame_title(history, k), fontsize=9))
    return artists


def frame_title(history: NetworkHistory, k: int) -> str:
    frame = history.frames[k]
    trust = frame.mean_trust()
    window = f"in the last {history.every} days" if frame.day else "at the start"
    parts = [f"Day {frame.day}: {int(frame.occupied.sum())} in post, {int(frame.vacant.sum())} vacant",
             f"mean trust {trust:.2f}" if math.isfinite(trust) else "mean trust -",
             f"{frame.referral_count()} referrals {window}"]
    if frame.joined or frame.left:
        parts.append(f"{len(frame.left)} left, {len(frame.joined)} joined")
    return f"{history.scenario.name}\n" + "; ".join(parts)


def trust_threshold(history: NetworkHistory) -> float:
    """Edges show trust clearly above what strangers start with."""
    return min(0.95, history.stranger_trust + 0.1)


def legend_handles(history: NetworkHistory) -> list:
    roles = [r for r in ROLES if any(p.role == r for p in history.posts)]
    handles = [Line2D([], [], marker="o", ls="", color=ROLE_COLOURS[r], markeredgecolor="white", markersize=7,
                      label=ROLE_LABELS[r]) for r in roles]
    threshold = trust_threshold(history)
    handles += [
        Line2D([], [], color=TRUST_COLOUR, lw=2.5, alpha=0.7, label=f"trust > {threshold:.2f} (thicker = more)"),
        Line2D([], [], color=REFERRAL_COLOUR, lw=1.8, marker=">", markersize=5, label="referrals since last frame"),
        Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor="#555555", markersize=7,
               markeredgewidth=1.2, label="vacant post (hollow, ×)"),
        Line2D([], [], marker="o", ls="", markerfacecolor="#AAAAAA", markeredgecolor="#222222", markersize=7,
               markeredgewidth=2.2, label="joined since last frame"),
    ]
    if any(not f.funded.all() for f in history.frames):
        handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor="#BBBBBB",
                              markersize=7, label="post no longer funded"))
    return handles


def network_figure(history: NetworkHistory, k: int = -1, figsize=(8.5, 5.6)) -> Figure:
    """One frame as a figure, with the legend (for a still image)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    draw_frame(history, k if k >= 0 else len(history.frames) - 1, ax)
    ax.legend(handles=legend_handles(history), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
              frameon=False)
    return fig


PLAYER_ICONS = {
    "fa fa-minus": "&minus;", "fa fa-fast-backward": "|&#9664;&#9664;", "fa fa-step-backward": "|&#9664;",
    "fa fa-play fa-flip-horizontal": "&#9664;", "fa fa-pause": "||", "fa fa-play": "&#9654;",
    "fa fa-step-forward": "&#9654;|", "fa fa-fast-forward": "&#9654;&#9654;|", "fa fa-plus": "+",
}
"""Text for the player's buttons, which matplotlib draws with Font Awesome icons from a CDN."""


def self_contained_player(html: str) -> str:
    """matplotlib's animation player without its one outside resource: the stylesheet link to a
    CDN for the buttons' icons is dropped (offline, the buttons would be blank) and each icon
    replaced by text. The buttons keep their titles (tooltips) and labels for screen readers."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">', "", html)
    for css, text in PLAYER_ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', f'<span style="font-size:10px;white-space:nowrap">{text}</span>')
    return html


def legend_figure(history: NetworkHistory, figsize=(2.6, 3.4)) -> Figure:
    """The legend alone (drawn once beside an animation rather than in every frame)."""
    fig = Figure(figsize=figsize)
    fig.legend(handles=legend_handles(history), loc="center left", fontsize=8, frameon=False, title="Legend",
               title_fontsize=9, alignment="left")
    return fig


def animation_html(history: NetworkHistory, *, figsize=(6.4, 5.4), dpi: int = 72, interval_ms: int = 600) -> str:
    """The frames as an HTML animation with play, pause, step and speed controls, the legend
    beside it. Self-contained: frames and legend are embedded PNGs."""
    from matplotlib.animation import FuncAnimation

    from .board_report import figure_data_uri

    fig = Figure(figsize=figsize, dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 0.93))
    positions = layout(history)
    threshold = trust_threshold(history)
    draw_background(history, ax, positions)
    drawn: list = []

    def update(k: int):
        for artist in drawn:
            if artist is not ax.title:
                artist.remove()
        drawn[:] = draw_frame(history, k, ax, threshold=threshold, positions=positions, background=False)
        return drawn

    animation = FuncAnimation(fig, update, frames=len(history.frames), interval=interval_ms, blit=False)
    player = self_contained_player(animation.to_jshtml(fps=max(1, round(1000 / interval_ms)), default_mode="once"))
    legend = figure_data_uri(legend_figure(history), dpi=90)
    return ('<meta charset="utf-8"><div style="display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px;'
            'font-family:sans-serif">'
            f'<div>{player}</div><img src="{legend}" alt="legend" style="max-width:240px"></div>')
