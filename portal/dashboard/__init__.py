"""Dashboards: a store's page, the chain and region table, their charts."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from portal.dashboard import views as views  # noqa: E402
