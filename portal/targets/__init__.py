"""Targets per metric and scope, and every targeted figure judged with its interval."""

from flask import Blueprint

bp = Blueprint("targets", __name__, url_prefix="/targets")
