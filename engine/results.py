"""What grading returns: the verdict on a submission and the outcome of each test case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["run", "submit"]
TestStatus = Literal["passed", "failed", "error", "timeout"]
Verdict = Literal[
    "accepted",
    "wrong_answer",
    "syntax_error",
    "runtime_error",
    "time_limit_exceeded",
    "memory_limit_exceeded",
    "output_limit_exceeded",
    "internal_error",
]

# A run-level failure decides the verdict by itself; the calls that finished are still reported.
RUN_VERDICTS: dict[str, Verdict] = {
    "syntax_error": "syntax_error",
    "missing_function": "runtime_error",
    "load_error": "runtime_error",
    "crashed": "runtime_error",
    "timeout": "time_limit_exceeded",
    "memory_limit": "memory_limit_exceeded",
    "output_limit": "output_limit_exceeded",
    "refused": "internal_error",
    "internal_error": "internal_error",
}


@dataclass
class CaseResult:
    """The outcome of one test case. Hidden tests carry no data: no input, output or prints."""

    name: str
    status: TestStatus
    hidden: bool
    message: str
    max_abs_error: float | None = None
    time_ms: float = 0.0
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    input: str | None = None
    expected: str | None = None
    got: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "hidden": self.hidden,
            "message": self.message,
            "max_abs_error": self.max_abs_error,
            "time_ms": round(self.time_ms, 3),
            "stdout": self.stdout,
            "warnings": list(self.warnings),
        }
        if not self.hidden:
            data.update(input=self.input, expected=self.expected, got=self.got)
        return data


@dataclass
class GradeResult:
    """The verdict on one submission, with per-test feedback."""

    drill: str
    verdict: Verdict
    passed: int
    total: int
    time_ms: float
    tests: list[CaseResult]
    stdout: str = ""
    message: str = ""  # one Chinese sentence summarising the verdict
    sandboxed: bool = True
    mode: Mode = "submit"
    diagnosis: dict[str, Any] | None = None  # engine.diagnosis: the mistake, when it is known

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    def to_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "verdict": self.verdict,
            "passed": self.passed,
            "total": self.total,
            "time_ms": round(self.time_ms, 3),
            "tests": [t.to_dict() for t in self.tests],
            "stdout": self.stdout,
            "message": self.message,
            "sandboxed": self.sandboxed,
            "mode": self.mode,
            "diagnosis": self.diagnosis,
        }
