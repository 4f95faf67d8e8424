"""The soundtrack lands on its loudness target and under -1 dBTP after AAC, as an independent meter
(the shipped ffmpeg's ebur128=peak=true) measures the delivered file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_cli.plan.resolve import make_plan
from sora_cli.sound.mix import mix_soundtrack
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES
from tests.test_qc import ebur128

#: a night market: a thunderclap over a shout, pushed hard, with a loud target that needs heavy limiting
NIGHT_MARKET = """\
version: 1
title: Night market
output: {width: 128, height: 72, fps: 12, loudness: LOUDNESS}
world:
  location: "a crowded night market"
  weather: storm
  characters:
    kim: {description: "vendor"}
shots:
  - id: one
    duration: 6
    cast: [kim]
    sfx: [{sound: thunder, at: 1.0, gain: 12}, {sound: door_slam, at: 3.1, gain: 12}]
    dialogue:
      - {speaker: kim, line: "Fresh noodles, come and get them!", delivery: shout, at: 0.9}
"""


@pytest.mark.parametrize("loudness", [-10, -23])
def test_hard_transients_land_on_target_under_the_ceiling(tmp_path, loudness):
    plan = make_plan(parse_storyboard(NIGHT_MARKET.replace("LOUDNESS", str(loudness)), "sb.yaml", EXAMPLES))
    report = mix_soundtrack(plan, tmp_path / "mix.m4a")
    measured, peak = ebur128(tmp_path / "mix.m4a")
    assert peak <= -1.0 and report.true_peak_dbtp <= -1.0, (peak, report)
    assert abs(measured - loudness) <= 0.5 and abs(report.loudness - loudness) <= 0.5, (measured, report)
    assert report.limited


def test_the_block_cache_gives_the_same_soundtrack(tmp_path):
    """Two 8 s blocks: the last block's limiter analysis once shared its cache name with the first's."""
    plan = make_plan(parse_storyboard((EXAMPLES / "product_ad.yaml").read_text(), "product_ad.yaml", EXAMPLES))
    plain = mix_soundtrack(plan, tmp_path / "plain.m4a")
    cached = mix_soundtrack(plan, tmp_path / "cached.m4a", cache_dir=tmp_path / "blocks")
    again = mix_soundtrack(plan, tmp_path / "again.m4a", cache_dir=tmp_path / "blocks")
    assert plain == cached == again
    assert Path(tmp_path / "plain.m4a").read_bytes() == Path(tmp_path / "again.m4a").read_bytes()
    assert ebur128(tmp_path / "again.m4a")[1] <= -1.0
