"""--executor ray: a two-node loopback cluster renders the same film as the local path.

Network rules: every Ray process stays on 127.0.0.1 (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0
is set before Ray is imported), usage stats are off, and every cluster started here is
shut down by the fixture.
"""

from __future__ import annotations

import os

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from sora_cli.film import RenderRequest, render_film  # noqa: E402
from sora_cli.provenance import media_digest  # noqa: E402
from sora_cli.render.animatic.backend import AnimaticBackend  # noqa: E402
from sora_cli.render.backend import ShotRender  # noqa: E402
from sora_cli.render.ray_executor import RayExecutor  # noqa: E402
from tests.conftest import example_text, run_cli  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes.add_node(num_cpus=1)
    ray.init(address=nodes.address, log_to_driver=False, logging_level="ERROR")
    yield nodes
    ray.shutdown()
    nodes.shutdown()


class DiesOnce(AnimaticBackend):
    """An animatic whose process dies once, part-way through shot 'ask' (the marker file remembers)."""

    marker: Path

    def render_shot(self, shot, carry, on_step=None):
        return ShotRender(self._dying(shot, carry))

    def _dying(self, shot, carry):
        inner = self._frames(shot, carry, draw=lambda i: True)
        index = 0
        try:
            while True:
                frame = next(inner)
                if shot.id == "ask" and index == 10 and not self.marker.exists():
                    self.marker.write_text(str(os.getpid()))
                    os._exit(1)  # the actor's process is killed mid-chain
                yield frame
                index += 1
        except StopIteration as stop:
            return stop.value


def dies_once(marker: Path) -> type:
    """A subclass made here, so Ray ships it (marker included) to the actors by value."""
    return type("DiesOnceHere", (DiesOnce,), {"marker": marker})


def _storyboard(tmp_path: Path) -> Path:
    import shutil

    from tests.conftest import EXAMPLES

    folder = tmp_path / "film"
    shutil.copytree(EXAMPLES / "assets", folder / "assets")
    path = folder / "harbour.yaml"
    path.write_text(example_text("harbour_night", width=192, height=108, fps=12))
    return path


def test_cluster_render_is_identical_to_local(tmp_path, cluster):
    path = _storyboard(tmp_path)
    local = render_film(RenderRequest(path, output=tmp_path / "local.mp4", jobs=2, use_cache=False))
    on_ray = render_film(
        RenderRequest(path, output=tmp_path / "on_ray.mp4", use_cache=False, ray=RayExecutor(address=cluster.address, actors=2))
    )
    assert media_digest(tmp_path / "local.mp4") == media_digest(tmp_path / "on_ray.mp4")
    workers = {s["worker"] for s in on_ray["shots"]}
    assert all(w and "/" in w for w in workers)  # each shot says which node rendered it
    assert on_ray["rendered"] == local["rendered"]


def test_cache_hits_are_not_sent_and_a_killed_actor_is_restarted(tmp_path, cluster):
    path = _storyboard(tmp_path)
    reference = render_film(RenderRequest(path, output=tmp_path / "local.mp4", jobs=1, use_cache=False))
    backend = dies_once(tmp_path / "died")
    cache = tmp_path / "cache"
    first = render_film(
        RenderRequest(
            path,
            output=tmp_path / "on_ray.mp4",
            cache_dir=cache,
            backend=backend,
            ray=RayExecutor(address=cluster.address, actors=2),
        )
    )
    assert (tmp_path / "died").exists()  # an actor did die mid-chain ...
    assert media_digest(tmp_path / "on_ray.mp4") == media_digest(tmp_path / "local.mp4")  # ... and the film is the same
    assert first["rendered"] == reference["rendered"]
    again = render_film(
        RenderRequest(
            path, output=tmp_path / "again.mp4", cache_dir=cache, backend=backend, ray=RayExecutor(address=cluster.address)
        )
    )
    assert again["rendered"] == [] and len(again["reused"]) == 5


def test_unreachable_cluster_is_one_clear_error(tmp_path):
    path = _storyboard(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sora_cli",
            "render",
            str(path),
            "-q",
            "--executor",
            "ray",
            "--ray-address",
            "127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("sora: cannot reach the Ray cluster at 127.0.0.1:9")
    assert "Traceback" not in result.stderr


def test_local_render_never_imports_ray(tmp_path):
    path = _storyboard(tmp_path)
    probe = (
        "import sys; from sora_cli.film import RenderRequest, render_film;"
        f"render_film(RenderRequest({str(path)!r}, jobs=1, use_cache=False));"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_executor_options_are_checked(tmp_path):
    path = _storyboard(tmp_path)
    assert run_cli("render", str(path), "--executor", "slurm", "-q").code == 2
    assert run_cli("render", str(path), "--ray-address", "127.0.0.1:9", "-q").code == 2
