from django.apps import AppConfig


class PaperConfig(AppConfig):
    name = "exchanges.paper"
    label = "paper"
    verbose_name = "Paper trading"
    default_auto_field = "django.db.models.BigAutoField"
