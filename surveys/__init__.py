"""Survey and checklist definitions, answer validation, receipt tokens and QR codes.

This package holds the pure domain rules of the feedback portal: what a survey asks,
which answers are acceptable, how the token printed on a receipt is signed and checked,
how shoppers type codes by hand, and how the receipt QR code is drawn. It imports no
Flask and no SQLAlchemy, so everything here can be used and tested without an app, and
not ``analysis`` either: scoring a checklist report is the portal's.
"""
