"""Telephone return visits: a manager's call to a customer who left a phone number with
consent, from the customer's case or from the store's list of customers to call back."""

from flask import Blueprint

bp = Blueprint("phone", __name__)
