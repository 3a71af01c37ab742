"""Drift detectors: KL over shared edges fires on a real change and not on a stationary stream."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mape.analyse import DriftWatch
from mape.drift import KLDetector, RiverDetector, kl_per_window_edges, kl_shared
from mape.policy import DriftPolicy
from tests.conftest import subprocess_env
from tests.mape.helpers import pems_stream

CHANGE = 2000


def seeded_stream(change: bool, seed: int = 11) -> np.ndarray:
    """A noisy daily-like signal; with ``change``, an affine change (x1.5 + 40) at index 2000."""
    rng = np.random.default_rng(seed)
    t = np.arange(4000)
    x = 100 + 50 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 8, len(t))
    if change:
        x[CHANGE:] = 1.5 * x[CHANGE:] + 40
    return x


def fired(detector: KLDetector | RiverDetector, values: np.ndarray) -> list[int]:
    return [i for i, v in enumerate(values.tolist()) if detector.update(v).drift_detected]


def test_kl_fires_after_an_affine_change_at_a_known_index() -> None:
    hits = fired(
        KLDetector(window=600, bins=50, threshold=0.75, check_every=20), seeded_stream(True)
    )
    assert hits, "the change must be detected"
    assert CHANGE <= hits[0] < CHANGE + 600  # after the change, within one window


def test_kl_is_quiet_on_a_stationary_stream() -> None:
    detector = KLDetector(window=600, bins=50, threshold=0.75, check_every=20)
    assert fired(detector, seeded_stream(False)) == []
    assert detector.statistic is not None and detector.statistic < 0.75


def test_kl_is_quiet_on_the_real_normal_regime() -> None:
    normal = pems_stream()[:3528]  # sample_data/README.md: rows 0-3527 are the normal regime
    assert fired(KLDetector(window=1200, bins=50, threshold=0.75, check_every=20), normal) == []


def test_shared_edges_see_a_pure_shift_that_per_window_edges_miss() -> None:
    rng = np.random.default_rng(5)
    previous = rng.normal(100, 10, 1200)
    current = previous + 60.0  # the same shape, moved: "a lane opened"
    assert kl_per_window_edges(current, previous, 50) < 0.01  # the original HarmonE: blind
    assert kl_shared(current, previous, 50) > 3.0
    stream = np.concatenate([previous, current])
    hits = fired(KLDetector(window=1200, bins=50, threshold=0.75), stream)
    assert hits == [len(stream) - 1]


def test_kl_resets_after_a_detection_like_river() -> None:
    d = KLDetector(window=100, bins=10, threshold=0.5)
    x = np.concatenate(
        [np.zeros(100) + np.arange(100) % 7, 50 + np.arange(100) % 7, 50 + np.arange(300) % 7]
    )
    hits = fired(d, x)
    assert len(hits) == 1  # after the reset it compares data of the new regime only


@pytest.mark.parametrize("name", ["adwin", "kswin", "page_hinkley"])
def test_river_detectors_fire_on_a_mean_shift(name: str) -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0, 1, 1000), rng.normal(8, 1, 1000)])
    hits = fired(RiverDetector(name, {}, seed=7), x)
    assert hits and 1000 <= hits[0] < 1100, hits[:3]  # no false alarm before, found soon after


def test_watch_applies_warmup_and_cooldown_in_steps() -> None:
    p = DriftPolicy(
        window=600, bins=50, threshold=0.75, every_steps=20, warmup_steps=3000, cooldown_steps=0
    )
    watch = DriftWatch(p, seed=7)
    watch.observe(0, seeded_stream(True))
    assert watch.check() is None  # the change at 2000 was found during the warm-up
    early = DriftWatch(
        DriftPolicy(window=600, bins=50, threshold=0.75, every_steps=20, warmup_steps=0), 7
    )
    early.observe(0, seeded_stream(True))
    found = early.check()
    assert found is not None and CHANGE <= found.step < CHANGE + 600
    assert early.check() is None  # consumed


def test_river_is_imported_only_by_a_river_detector() -> None:
    code = (
        "import sys\n"
        "from mape.analyse import DriftWatch\nfrom mape.policy import DriftPolicy\n"
        "DriftWatch(DriftPolicy(detector='kl'), 7)\n"
        "assert 'river' not in sys.modules, 'kl must not import river'\n"
        "DriftWatch(DriftPolicy(detector='adwin'), 7)\n"
        "assert 'river' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_finding_in_the_cooldown_is_marked_and_does_not_restart_it() -> None:
    p = DriftPolicy(
        window=600, bins=50, threshold=0.75, every_steps=20, warmup_steps=0, cooldown_steps=5000
    )
    watch = DriftWatch(p, seed=7)
    changed = seeded_stream(True)
    back = seeded_stream(False, seed=12)[:CHANGE]  # the first regime returns at 4,000
    watch.observe(0, changed[: CHANGE + 600])
    first = watch.check()
    assert first is not None and not first.cooling
    watch.observe(CHANGE + 600, np.concatenate([changed[CHANGE + 600 :], back]))
    later = watch.check()
    assert later is not None and later.cooling and 4000 < later.step < first.step + 5000
    watch.acted(later.step)  # a reuse restarts the cool-down from there
    watch.observe(6000, np.concatenate([back, changed[CHANGE:]]))
    again = watch.check()
    assert again is not None and again.cooling  # still within 5,000 of the reuse


def reference_kl_findings(values: np.ndarray, window: int, every: int, slide: bool) -> list[int]:
    """The detector as first written: a deque, one update per value, explicit histogram edges."""
    from collections import deque

    held: deque[float] = deque(maxlen=2 * window)
    since, found, out = 0, False, []
    for i, x in enumerate(values.tolist()):
        if found:
            for _ in range(window if slide else len(held)):
                held.popleft()
            since, found = 0, False
        held.append(x)
        since += 1
        if len(held) == 2 * window and since >= every:
            since = 0
            data = np.array(held)
            edges = np.linspace(data.min(), data.max(), 51)
            cur, _ = np.histogram(data[window:], bins=edges)
            prev, _ = np.histogram(data[:window], bins=edges)
            p, q = cur / cur.sum() + 1e-6, prev / prev.sum() + 1e-6
            p, q = p / p.sum(), q / q.sum()
            found = float(np.sum(p * np.log(p / q))) > 0.75
            if found:
                out.append(i)
    return out


@pytest.mark.parametrize("slide", [False, True])
def test_batched_updates_find_what_one_update_per_value_finds(slide: bool) -> None:
    stream = pems_stream()
    expected = reference_kl_findings(stream, 600, 20, slide)
    assert len(expected) >= 2  # the stream's regimes make the comparison mean something
    one_by_one = KLDetector(600, 50, 0.75, 20, slide=slide)
    assert fired(one_by_one, stream) == expected
    batched, rng, at, found = (
        KLDetector(600, 50, 0.75, 20, slide=slide),
        np.random.default_rng(5),
        0,
        [],
    )
    while at < len(stream):
        size = int(rng.integers(1, 700))
        found += [at + offset for offset, _ in batched.update_many(stream[at : at + size])]
        at += size
    assert found == expected


def test_sliding_takes_a_second_look_one_window_after_a_drift() -> None:
    x = seeded_stream(False)
    stream = np.concatenate([x[:2000], 1.5 * x[2000:2900] + 40, x[2900:]])  # B: 900 rows
    cleared = fired(KLDetector(600, 50, 0.75, 20), stream)
    slid = fired(KLDetector(600, 50, 0.75, 20, slide=True), stream)
    assert cleared[0] == slid[0] and 2000 < slid[0] < 2600
    # cleared: blind for two windows; sliding: the window after the drift against the one that
    # found it (still mostly the old regime), so it fires again while B runs, before it ends
    assert slid[1] == slid[0] + 600 < 2900 < cleared[1]
