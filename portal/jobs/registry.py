"""The kinds of job: a name, the words a user sees for it, and the function that does the
work. Areas declare theirs with `job_kind`; `portal.jobs.kinds` imports them all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

    from portal.jobs.context import JobContext

JobFunction = Callable[["JobContext", Mapping[str, Any]], None]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    label: LazyString
    run: JobFunction


_KINDS: dict[str, JobKind] = {}


class UnknownJobKind(LookupError):
    """No job kind of this name is registered (a typo, or a module not imported)."""


def job_kind(name: str, label: LazyString) -> Callable[[JobFunction], JobFunction]:
    """Register the decorated function as the work of jobs of kind ``name``; it receives
    the job's context (progress, transactions, result file) and its parameters."""

    def register(run: JobFunction) -> JobFunction:
        if name in _KINDS and _KINDS[name].run is not run:
            raise ValueError(f"job kind {name!r} is registered twice")
        _KINDS[name] = JobKind(name, label, run)
        return run

    return register


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownJobKind(name) from None


def kind_label(name: str) -> str:
    """The words for a kind, or its name if it is no longer registered."""
    kind = _KINDS.get(name)
    return str(kind.label) if kind is not None else name
