"""Celery's configuration comes from Django's CELERY_* settings (read once, as a plain dict)."""

from django.conf import settings

from config.celery import DjangoCeleryConfig, app


def test_every_celery_setting_reaches_celerys_configuration():
    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    assert "CELERY_TASK_ACKS_LATE" in names and "CELERY_TASK_ROUTES" in names
    for name in names:
        assert app.conf[name.removeprefix("CELERY_").lower()] == getattr(settings, name), name
    assert app.conf.task_acks_late is True and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_default_queue == "default"
    assert app.conf.task_time_limit is None  # not set in Django: Celery's own default


def test_the_mapping_holds_only_the_celery_settings():
    config = DjangoCeleryConfig()
    assert set(config) == {name for name in dir(settings) if name.startswith("CELERY_")}
    assert config["CELERY_TASK_SERIALIZER"] == "json"
    assert "SECRET_KEY" not in config and "DATABASES" not in config
