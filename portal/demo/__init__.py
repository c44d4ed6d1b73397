"""The demo chain behind ``flask demo``: a fictional retail chain of 17 stores with months of
receipts, survey answers, follow-up cases, mystery-shopper visits and service-star awards,
built through the portal's own operations wherever there are few enough rows for that
(`portal.demo.build` puts the parts together; `portal.demo.commands` is the command).
"""

from portal.demo.build import DemoExists, DemoSummary, build_demo
from portal.demo.chain import DEMO_PASSWORD, DemoLogin, demo_exists, demo_logins

__all__ = [
    "DEMO_PASSWORD",
    "DemoExists",
    "DemoLogin",
    "DemoSummary",
    "build_demo",
    "demo_exists",
    "demo_logins",
]
