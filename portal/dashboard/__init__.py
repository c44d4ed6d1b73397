"""Dashboards: a store's page, the chain and region table, their charts."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
