"""The review pages' one form: an admin's "regenerate" button (a CSRF-checked POST)."""

from __future__ import annotations

from portal.forms import PortalForm


class RegenerateForm(PortalForm):
    pass
