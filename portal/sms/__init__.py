"""Text messages to customers: the follow-up link and the notice of a return call, sent
through the provider `PORTAL_SMS_PROVIDER` names (the outbox, or Twilio), with opt-out
replies, per-number limits and delivery reports recorded on the case."""

from flask import Blueprint

bp = Blueprint("sms", __name__)
