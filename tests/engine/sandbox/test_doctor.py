"""Fail closed: without every isolation layer, submissions are refused unless explicitly allowed."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine.sandbox as sandbox_pkg
from engine.sandbox import Call, Limits, Pool, doctor_report
from engine.sandbox.doctor import OPTIONAL_LAYERS, REQUIRED_BY_MODE, REQUIRED_LAYERS, evaluate
from tests.engine.sandbox.conftest import RELU, ROOTLESS, X

ALL_ON = {name: True for name in (*REQUIRED_LAYERS, *OPTIONAL_LAYERS)} | {"uid": 60000}


def test_all_layers_ready() -> None:
    report = evaluate(ALL_ON, allow_unsandboxed=False)
    assert (
        report["ready"]
        and not report["unsandboxed"]
        and report["missing"] == []
        and report["message"] == ""
    )


@pytest.mark.parametrize("layer", REQUIRED_LAYERS)
def test_any_missing_required_layer_refuses(layer: str) -> None:
    report = evaluate(ALL_ON | {layer: False}, allow_unsandboxed=False)
    assert not report["ready"] and not report["unsandboxed"]
    assert report["missing"] == [layer]
    assert "拒绝" in report["message"] or "不会被运行" in report["message"]
    assert layer in report["message"]


def test_optional_cgroup_is_reported_but_not_required() -> None:
    report = evaluate(ALL_ON | {"cgroup": False}, allow_unsandboxed=False)
    assert report["ready"] and report["layers"]["cgroup"] is False


def test_no_probe_at_all_refuses() -> None:
    report = evaluate({}, allow_unsandboxed=False)
    assert not report["ready"] and set(report["missing"]) == set(REQUIRED_LAYERS)


def test_allow_unsandboxed_is_explicit_and_loud() -> None:
    report = evaluate({"rlimits": True}, allow_unsandboxed=True)
    assert not report["ready"] and report["unsandboxed"]
    assert "GRADER_ALLOW_UNSANDBOXED" in report["message"]


class FakePool:
    def __init__(self, layers: dict[str, Any]) -> None:
        self._layers = layers

    def layers(self) -> dict[str, Any]:
        return self._layers


def test_doctor_report_uses_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sandbox_pkg, "get_sandbox", lambda in_process=False: FakePool(ALL_ON | {"seccomp": False})
    )
    monkeypatch.delenv("GRADER_ALLOW_UNSANDBOXED", raising=False)
    report = doctor_report()
    assert report["ready"] is False and report["missing"] == ["seccomp"] and report["message"]


@pytest.fixture
def crippled_pool(monkeypatch: pytest.MonkeyPatch) -> Pool:
    """A real pool whose start-up probe is made to report that namespaces are unavailable."""
    p = Pool(slots=1, queue_size=2, overflow=0)
    p.layers()  # start the runner and its real probe
    monkeypatch.setattr(p, "_layers", ALL_ON | {"net_namespace": False, "pid_namespace": False})
    yield p
    p.close()


def test_pool_refuses_without_isolation(
    crippled_pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRADER_ALLOW_UNSANDBOXED", raising=False)
    out = crippled_pool.run(RELU, "relu", [Call((X,)), Call((X,))])
    assert out.status == "refused"
    assert [c.status for c in out.calls] == ["not_run", "not_run"]
    assert "沙箱" in out.message and "GRADER_ALLOW_UNSANDBOXED" in out.message


def test_unsandboxed_mode_marks_results_and_keeps_limits(
    crippled_pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_ALLOW_UNSANDBOXED", "1")
    out = crippled_pool.run(RELU, "relu", [Call((X,))])
    assert out.status == "ok" and out.sandboxed is False
    np.testing.assert_array_equal(out.calls[0].value, np.maximum(X, 0))

    loop = "def relu(x):\n    while True:\n        pass\n"
    out = crippled_pool.run(loop, "relu", [Call((X,))], Limits(cpu_seconds=1, wall_seconds=1))
    assert out.status == "timeout" and out.sandboxed is False

    bomb = "def relu(x):\n    return bytearray(2**31)\n"
    out = crippled_pool.run(bomb, "relu", [Call((X,))])
    assert out.status == "memory_limit" and out.sandboxed is False


ROOTLESS_ON = {name: True for name in REQUIRED_BY_MODE["rootless"]} | {"mode": "rootless"}


def test_rootless_mode_needs_its_user_namespace_not_host_uids() -> None:
    report = evaluate(ROOTLESS_ON | {"cgroup": False}, allow_unsandboxed=False)
    assert report["ready"] and report["mode"] == "rootless" and "uid_drop" not in report["layers"]
    refused = evaluate(ROOTLESS_ON | {"user_namespace": False}, allow_unsandboxed=False)
    assert not refused["ready"] and refused["missing"] == ["user_namespace"]
    # The operator is told which switch would make rootless isolation possible.
    assert "kernel.unprivileged_userns_clone" in refused["message"]
    assert "user.max_user_namespaces" in refused["message"]


def test_privileged_mode_still_needs_distinct_uids() -> None:
    report = evaluate(ALL_ON | {"mode": "privileged", "uid_drop": False}, allow_unsandboxed=False)
    assert not report["ready"] and report["missing"] == ["uid_drop"]


def test_start_errors_reach_the_report() -> None:
    layers = ROOTLESS_ON | {"user_namespace": False, "start_errors": ("user namespace: EPERM",)}
    assert evaluate(layers, allow_unsandboxed=False)["start_errors"] == ["user namespace: EPERM"]


@pytest.mark.skipif(not ROOTLESS, reason="rootless pass: an ordinary user's user namespaces")
def test_fails_closed_when_user_namespaces_are_refused() -> None:
    """A real refusal: a user namespace allowing no further user namespace inside it (what
    user.max_user_namespaces=0 does to a whole machine). The doctor refuses, names the sysctl."""
    repo = str(Path(__file__).resolve().parents[3])
    doctor = f"cd {shlex.quote(repo)} && exec {shlex.quote(sys.executable)} -m engine doctor"
    # The outer namespace (root inside) caps namespaces at one; the inner one, an ordinary uid
    # like a real user's, takes that one: the runner's own unshare is then refused.
    script = (
        "echo 1 > /proc/sys/user/max_user_namespaces && "
        f"exec unshare -U --map-user=1000 --map-group=1000 sh -c {shlex.quote(doctor)}"
    )
    done = subprocess.run(
        ["unshare", "-U", "-r", "sh", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "mode: rootless" in done.stdout and "ready: False" in done.stdout
    assert "user_namespace" in done.stdout and "kernel.unprivileged_userns_clone" in done.stdout
