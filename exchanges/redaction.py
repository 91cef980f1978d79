"""Keep secrets out of logs and messages.

Every credential value decrypted in this process is remembered (only as long as the
process lives, in memory) so the logging filter can replace it wherever it shows up.
Patterns catch what we never decrypted ourselves: signatures in URLs, auth headers.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_MAX_REMEMBERED = 10_000

_known: dict[str, None] = {}  # insertion-ordered set
_lock = threading.Lock()

_PATTERNS = (
    re.compile(r"(?i)(signature|sign|apikey|api_key|secret|passphrase|password|privatekey|private_key)"
               r"([\"']?\s*[:=]\s*[\"']?)([^\s&\"',}]+)"),
    re.compile(r"(?i)(x-mbx-apikey|ok-access-key|ok-access-sign|ok-access-passphrase|x-api-key|x-signature"
               r"|api-key|api-sign|authorization)([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
)  # fmt: skip


def remember(*values: str) -> None:
    """Mark values as secret for the rest of this process."""
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LENGTH:
                _known[value] = None
        while len(_known) > _MAX_REMEMBERED:
            _known.pop(next(iter(_known)))


def redact(text: str, *, extra: list[str] | tuple[str, ...] = ()) -> str:
    if not text:
        return text
    with _lock:
        secrets = [*extra, *_known]
    for secret in sorted((s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


class SecretRedactingFilter(logging.Filter):
    """A logging filter: the formatted message (and exception text) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
        return True
