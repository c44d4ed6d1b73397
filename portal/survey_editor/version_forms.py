"""The form of the version page: copy this version into the survey's draft."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from portal.workflow_forms import VersionedForm


class CopyVersionForm(VersionedForm):
    """``version`` (of `VersionedForm`) carries the *draft's* revision the page showed, so
    that a copy never overwrites a draft saved meanwhile."""

    replace_draft = BooleanField(_l("Replace the current draft"))
