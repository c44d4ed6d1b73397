"""Where a submit came from, and what it said, as values the rules can compare: keyed
hashes of the device and its network (never the address itself), and a hash of the
answer pattern.

The address is the one `portal.throttle.client_address` gives (the socket's, or the one
the trusted proxies name: ``PORTAL_TRUSTED_PROXIES``). The hashes are HMAC-SHA256 with
the secret key, each with its own purpose prefix: equal inputs compare equal, but nobody
holding the database can recover an address by hashing the 2^32 candidates.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import unicodedata
from dataclasses import dataclass

from portal.models import Response
from portal.models.receipts import RATING_KEYS

#: Hex characters kept of each hash: 128 bits, plenty to tell devices apart.
KEY_LENGTH = 32
#: The network of an address: the usual allocation to one site or subscriber.
IPV4_PREFIX = 24
IPV6_PREFIX = 48


@dataclass(frozen=True, slots=True)
class SubmitOrigin:
    """The keyed hashes of a submit's device (address and browser) and network."""

    device_key: str
    network_key: str


def _keyed(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:KEY_LENGTH]


def network_of(address: str) -> str:
    """The network ``address`` belongs to: ``203.0.113.0/24``, ``2001:db8:1::/48``; an
    IPv4 address written as IPv6 (``::ffff:203.0.113.7``) counts as IPv4; text that is no
    address stands for itself."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def origin_of(secret: str, address: str, user_agent: str) -> SubmitOrigin:
    """The keyed hashes of the device (``address`` and ``user_agent``) and its network."""
    return SubmitOrigin(
        device_key=_keyed(secret, "ballot-device", f"{address}\n{user_agent}"),
        network_key=_keyed(secret, "ballot-network", network_of(address)),
    )


def normalise_comment(text: str | None) -> str:
    """A comment as the pattern rule compares it: width and case folded (NFKC, casefold),
    without spaces, punctuation and symbols, so "Great!!" and "great" are one comment."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def answer_pattern(response: Response) -> str:
    """SHA-256 of everything the shopper chose and wrote: both scores, every rating
    (answered or not), the problem and its category, and the normalised comment."""
    parts = [
        response.nps,
        response.csat,
        *(getattr(response, key) for key in RATING_KEYS),
        response.problem_reported,
        response.problem_category,
        normalise_comment(response.comment),
    ]
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]
