"""Signing in and out, and the account settings page."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

#: The session key holding the user's session version at sign-in (see `User.session_version`).
SESSION_VERSION_KEY = "_sv"
