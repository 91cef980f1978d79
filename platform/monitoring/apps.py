from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from monitoring.services import schedules_install

        # After migrate (and after a test flush): once django-celery-beat's tables exist.
        post_migrate.connect(
            lambda **kwargs: schedules_install(),
            sender=apps.get_app_config("django_celery_beat"),
            weak=False,
            dispatch_uid="monitoring.schedules_install",
        )
