"""surveys/ and analysis/ stay free of the web and the database (DESIGN.md section 3)."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys

import pytest

import surveys

#: Every module of surveys/, subpackages included, so that a new one is checked too.
SURVEYS_MODULES = sorted(
    info.name for info in pkgutil.walk_packages(surveys.__path__, prefix="surveys.")
)


def loaded(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    """The modules under the top-level packages ``roots`` that importing ``modules`` loads,
    in a fresh interpreter (this one has imported everything already)."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip())


@pytest.mark.parametrize(
    "modules",
    [
        [
            "surveys.answers",
            "surveys.loader",
            "surveys.tokens",
            "surveys.codes",
            "surveys.qr",
            "surveys.checklists",
        ],
        ["analysis"],
    ],
)
def test_pure_packages_import_neither_flask_nor_sqlalchemy(modules):
    assert loaded(modules, ("flask", "sqlalchemy")) == []


def test_surveys_does_not_import_portal():
    code = "import surveys.answers, surveys.loader, sys; print('portal' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["surveys", *SURVEYS_MODULES])
def test_surveys_does_not_import_analysis(module):
    # Scoring a checklist is the portal's (portal.mystery.scoring): surveys describes and
    # validates answers, analysis computes, and neither knows the other.
    assert loaded([module], ("analysis",)) == []
