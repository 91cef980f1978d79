"""The repository's shape: the standard library is not shadowed, the settings follow
the environment, and the process files name every part."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "FERNET_KEYS")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


SETTINGS_PROBE = (
    "import sys; sys.path.append('platform'); import django; django.setup(); "
    "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
)


class TestStandardLibraryIsNotShadowed:
    def test_platform_module_is_the_standard_library(self):
        import platform

        assert not (ROOT / "platform" / "__init__.py").exists()
        assert platform.system() in {"Linux", "Darwin", "Windows"}
        assert hasattr(platform, "python_version")

    def test_from_the_repository_root(self):
        result = run_python("import platform, uuid; print(platform.system(), uuid.uuid4().version)")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [__import__("platform").system(), "4"]


class TestSettings:
    def test_sqlite_without_database_url(self):
        result = run_python(SETTINGS_PROBE, DJANGO_SETTINGS_MODULE="config.settings.local")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "django.db.backends.sqlite3"

    def test_postgresql_with_database_url(self):
        result = run_python(
            SETTINGS_PROBE,
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/platform",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "django.db.backends.postgresql"

    def test_tests_run_on_postgresql(self, db):
        from django.db import connection

        assert connection.vendor == "postgresql"

    @pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS", "DATABASE_URL"])
    def test_production_refuses_to_start_without_a_secret(self, missing):
        env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "s" * 50,
            "FERNET_KEYS": "k1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/platform",
            "ALLOWED_HOSTS": "example.com",
        }
        env[missing] = None
        result = run_python(SETTINGS_PROBE, **env)
        assert result.returncode != 0
        assert missing in result.stderr
        assert "ImproperlyConfigured" in result.stderr

    def test_production_reads_secrets_from_files(self, tmp_path):
        (tmp_path / "secret").write_text("from-a-file\n")
        (tmp_path / "fernet").write_text("key-a,key-b\n")
        code = SETTINGS_PROBE.replace(
            "print(s.DATABASES['default']['ENGINE'])", "print(s.SECRET_KEY, s.FERNET_KEYS, s.DEBUG)"
        )
        result = run_python(
            code,
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY_FILE=str(tmp_path / "secret"),
            FERNET_KEYS_FILE=str(tmp_path / "fernet"),
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/platform",
            ALLOWED_HOSTS="example.com",
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "from-a-file ['key-a', 'key-b'] False"

    def test_redis_url_feeds_broker_channel_layer_and_cache(self):
        code = SETTINGS_PROBE.replace(
            "print(s.DATABASES['default']['ENGINE'])",
            "print(s.CELERY_BROKER_URL, s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['address'],"
            " s.CACHES['default']['LOCATION'])",
        )
        result = run_python(code, DJANGO_SETTINGS_MODULE="config.settings.local", REDIS_URL="redis://127.0.0.1:6390/3")
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["redis://127.0.0.1:6390/3"] * 3

    def test_fernet_keys_are_not_the_secret_key(self, settings):
        assert settings.FERNET_KEYS
        assert settings.SECRET_KEY not in settings.FERNET_KEYS


class TestCeleryConfiguration:
    def test_queues_and_order_delivery_guarantees(self):
        from config.celery import app

        conf = app.conf
        assert {q.name for q in conf.task_queues} == {"orders", "market", "bots", "default"}
        assert conf.task_default_queue == "default"
        assert conf.task_acks_late is True
        assert conf.worker_prefetch_multiplier == 1
        assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"

    @pytest.mark.parametrize(
        "task, queue",
        [
            ("trading.tasks.order_send", "orders"),
            ("trading.tasks.orders_reconcile", "orders"),
            ("trading.tasks.market_poll", "market"),
            ("bots.tasks.bots_evaluate_group", "bots"),
            ("monitoring.tasks.ping", None),
        ],
    )
    def test_routes(self, task, queue):
        from config.celery import app

        app.loader.import_default_modules()
        assert task in app.tasks  # a real task, not only a name the route's pattern matches

        route = app.amqp.router.route({}, task)
        assert route["queue"].name == (queue or "default")


class TestProcessFiles:
    def test_docker_compose_is_valid_and_complete(self):
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        services = compose["services"]
        assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
        for name in ("postgres", "redis", "web"):
            assert "healthcheck" in services[name], f"{name} has no healthcheck"
        assert "daphne" in " ".join(map(str, services["web"]["command"]))
        assert "beat" in " ".join(map(str, services["beat"]["command"]))
        for name in ("web", "worker", "beat"):
            assert services[name]["env_file"]
            assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        env_example = ROOT / services["web"]["env_file"][0]
        assert env_example.exists()
        assert "FERNET_KEYS" in env_example.read_text()

    def test_procfile_starts_web_worker_and_beat(self):
        lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
        assert set(lines) == {"web", "worker", "beat"}
        assert "daphne" in lines["web"] and "config.asgi:application" in lines["web"]
        assert "orders" in lines["worker"]
        assert "DatabaseScheduler" in lines["beat"]

    def test_ci_runs_the_readme_test_command(self):
        readme = (ROOT / "README.md").read_text()
        assert "bin/test" in readme and "bin/run" in readme
        assert "bin/test" in (ROOT / ".ci" / "run").read_text()
