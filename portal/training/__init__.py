"""Trainings HR assigns (usually from the coaching list) and marks done, and whether they
worked: the trained person's figures before and after against their store's other staff
(difference in differences, `analysis.training`), per person and pooled per topic."""

from flask import Blueprint

bp = Blueprint("training", __name__)
