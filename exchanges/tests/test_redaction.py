import logging

from exchanges.redaction import SecretRedactingFilter, redact, remember


def test_known_secrets_are_masked_in_log_records(caplog):
    remember("ultra-secret-value-123")
    logger = logging.getLogger("test.redaction")
    logger.addFilter(SecretRedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("calling with %s", "ultra-secret-value-123")
        try:
            raise RuntimeError("boom ultra-secret-value-123")
        except RuntimeError:
            logger.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "ultra-secret-value-123" not in text
    assert "calling with ***" in caplog.text


def test_patterns_catch_signatures_and_auth_headers():
    assert redact("GET /api?x=1&signature=deadbeefcafe") == "GET /api?x=1&signature=***"
    assert redact("{'X-MBX-APIKEY': 'abcdefgh123'}") == "{'X-MBX-APIKEY': '***'}"
    assert redact('"secret": "hunter22"') == '"secret": "***"'
