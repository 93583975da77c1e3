"""Fail-closed policy: which isolation layers are active, and may submissions run at all."""

from __future__ import annotations

from typing import Any

# Every one of these must be proven by the start-up probe before user code runs sandboxed.
COMMON_LAYERS = (
    "capabilities_dropped",
    "no_new_privs",
    "pid_namespace",
    "net_namespace",
    "mount_namespace",
    "ipc_namespace",
    "uts_namespace",
    "seccomp",
    "rlimits",
    "tmp_private",
    "env_scrubbed",
    "cgroup_namespace",
)
# privileged (root): a distinct host uid per slot. rootless (any user): a user namespace of the
# submission's own, mapping one ordinary uid inside to the caller's uid outside.
REQUIRED_BY_MODE = {
    "privileged": ("uid_drop", *COMMON_LAYERS),
    "rootless": ("user_namespace", *COMMON_LAYERS),
}
REQUIRED_LAYERS = REQUIRED_BY_MODE["privileged"]
# Reported, but their absence does not stop grading (the rlimits still bound each child).
OPTIONAL_LAYERS = ("cgroup",)

REFUSED_MESSAGE = (
    "评测沙箱未就绪：缺少隔离层 {missing}。为安全起见，提交的代码不会被运行。"
    "普通用户需要内核允许非特权用户命名空间（sysctl kernel.unprivileged_userns_clone=1、"
    "user.max_user_namespaces 大于 0，Ubuntu 还需 kernel.apparmor_restrict_unprivileged_userns=0），"
    "或以 root 身份运行评测服务；"
    "仅在本地开发时可设置 GRADER_ALLOW_UNSANDBOXED=1（结果将标记为未隔离）。"
)
UNSANDBOXED_MESSAGE = (
    "警告：缺少隔离层 {missing}，因设置了 GRADER_ALLOW_UNSANDBOXED=1 而在无隔离模式下运行，"
    "仅施加资源限制。切勿在生产环境中这样做。"
)


def evaluate(layers: dict[str, Any], allow_unsandboxed: bool) -> dict[str, Any]:
    """Decide from probed layers: ready (sandboxed), unsandboxed (allowed degraded), or refused."""
    mode = str(layers.get("mode") or "privileged")
    required = REQUIRED_BY_MODE.get(mode, REQUIRED_LAYERS)
    active = {name: bool(layers.get(name)) for name in (*required, *OPTIONAL_LAYERS)}
    missing = [name for name in required if not active[name]]
    ready = not missing
    report: dict[str, Any] = {
        "mode": mode,
        "ready": ready,
        "unsandboxed": not ready and allow_unsandboxed,
        "layers": active,
        "missing": missing,
        "sandbox_uid": layers.get("uid"),
        "message": "",
    }
    if layers.get("setup_error"):
        report["setup_error"] = str(layers["setup_error"])
    if layers.get("start_errors"):
        report["start_errors"] = [str(e) for e in layers["start_errors"]]
    if not ready:
        template = UNSANDBOXED_MESSAGE if allow_unsandboxed else REFUSED_MESSAGE
        report["message"] = template.format(missing="、".join(missing))
    return report
