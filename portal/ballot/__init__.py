"""Ballot stuffing: screening each shopper's submit against three rules (bursts from one
device or network, answers seconds after the receipt was printed, identical answer
patterns), holding flagged answers out of rankings and awards, and the review queue where
QA reviewers clear or reject them."""

from flask import Blueprint

bp = Blueprint("ballot", __name__)
