"""The mystery operations as `portal.mystery.demo` calls them: with the acting user as a
`User` under ``shopper=``, ``reviewer=`` or ``manager=``, where the operations themselves
follow the workflow kernel's convention of one ``actor: Actor`` keyword.

The demo is its only user: its calls name the acting user that way. When they pass
``actor=Actor.of_user(...)`` and import the operations from `scheduling`, `report` and
`review` instead, this module can go.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from inspect import isfunction
from typing import Any

from portal.audit import Actor
from portal.mystery import report, review, scheduling

#: The keywords the demo names the acting user by.
USER_KEYWORDS = ("shopper", "reviewer", "manager")


def by_user(operation: Callable[..., Any]) -> Callable[..., Any]:
    """``operation`` taking its acting user as ``shopper=``, ``reviewer=`` or ``manager=``."""

    @wraps(operation)
    def call(*args: Any, **kwargs: Any) -> Any:
        for keyword in USER_KEYWORDS:
            if keyword in kwargs:
                kwargs["actor"] = Actor.of_user(kwargs.pop(keyword))
        return operation(*args, **kwargs)

    return call


def __getattr__(name: str) -> Callable[..., Any]:
    """The operation ``name`` of `scheduling`, `report` or `review`, through `by_user`."""
    for module in (scheduling, report, review):
        operation = getattr(module, name, None)
        if isfunction(operation) and operation.__module__ == module.__name__:
            return by_user(operation)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
