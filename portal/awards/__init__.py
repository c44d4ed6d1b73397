"""Monthly service-star award cycles: proposals from the ranking, HR decisions with
reasons, public notice, certificates, leaderboards, payroll export and appeals."""

from flask import Blueprint

bp = Blueprint("awards", __name__)
