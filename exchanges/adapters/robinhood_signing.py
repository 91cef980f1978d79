"""Request signing for the Robinhood Crypto Trading API.

Every request carries three headers: ``x-api-key``, ``x-timestamp`` (integer unix seconds)
and ``x-signature``: the base64 Ed25519 signature of

    f"{api_key}{timestamp}{path}{method}{body}"

where ``path`` includes the query string exactly as sent, ``method`` is upper case and
``body`` is the exact JSON text sent (empty for a request without a body). The private
key is the base64 of the 32-byte Ed25519 seed, as Robinhood's docs and samples use.

``verify_signature`` is the server side of the same rule (tests, the exchange simulator).
"""

from __future__ import annotations

import base64
import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchanges.adapters.errors import AuthenticationFailed

EXCHANGE_ID = "robinhood"
SEED_BYTES = 32


def signing_message(*, api_key: str, timestamp: int | str, path: str, method: str, body: str = "") -> bytes:
    """The exact bytes Robinhood expects to be signed."""
    return f"{api_key}{timestamp}{path}{method.upper()}{body}".encode()


def load_private_key(private_key_b64: str) -> Ed25519PrivateKey:
    """The Ed25519 key from its base64 seed (32 bytes; a 64-byte seed+public key is accepted too).

    The error never repeats the value: it is a secret.
    """
    try:
        raw = base64.b64decode(private_key_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("privateKey is not valid base64", exchange=EXCHANGE_ID) from None
    if len(raw) == 2 * SEED_BYTES:
        # NaCl's "secret key" form: seed followed by the public key; check they belong together.
        key = Ed25519PrivateKey.from_private_bytes(raw[:SEED_BYTES])
        if _public_bytes(key.public_key()) != raw[SEED_BYTES:]:
            raise AuthenticationFailed("privateKey is not a consistent Ed25519 key pair", exchange=EXCHANGE_ID)
        return key
    if len(raw) != SEED_BYTES:
        raise AuthenticationFailed(
            f"privateKey must be a base64-encoded {SEED_BYTES}-byte Ed25519 seed (got {len(raw)} bytes)",
            exchange=EXCHANGE_ID,
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(private_key_b64: str) -> str:
    """The base64 public key to register at Robinhood for this private key."""
    return base64.b64encode(_public_bytes(load_private_key(private_key_b64).public_key())).decode()


class RequestSigner:
    """Signs requests for one API key. Holds the key object, never the base64 text."""

    def __init__(self, *, api_key: str, private_key_b64: str):
        if not api_key:
            raise AuthenticationFailed("apiKey is missing", exchange=EXCHANGE_ID)
        if not private_key_b64:
            raise AuthenticationFailed("privateKey is missing", exchange=EXCHANGE_ID)
        self._api_key = api_key
        self._key = load_private_key(private_key_b64)

    def __repr__(self) -> str:
        return "RequestSigner(<hidden>)"

    def sign(self, *, timestamp: int | str, path: str, method: str, body: str = "") -> str:
        message = signing_message(api_key=self._api_key, timestamp=timestamp, path=path, method=method, body=body)
        return base64.b64encode(self._key.sign(message)).decode()

    def headers(self, *, path: str, method: str, body: str = "", timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else int(timestamp)
        return {
            "x-api-key": self._api_key,
            "x-timestamp": str(ts),
            "x-signature": self.sign(timestamp=ts, path=path, method=method, body=body),
        }


def verify_signature(
    *, public_key_b64: str, api_key: str, timestamp: int | str, path: str, method: str, body: str, signature_b64: str
) -> bool:
    """True when ``signature_b64`` signs this request with the key behind ``public_key_b64``."""
    try:
        public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
        message = signing_message(api_key=api_key, timestamp=timestamp, path=path, method=method, body=body)
        public_key.verify(signature, message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(encoding=Encoding.Raw, format=PublicFormat.Raw)
