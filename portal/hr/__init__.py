"""Staff rankings for HR and managers: the month's table, a staff member's page, the
coaching list, the ranking policy and the page that explains the method."""

from flask import Blueprint

bp = Blueprint("hr", __name__)
