"""The marketplace catalog: bots and the files their authors upload."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BotType(models.TextChoices):
    TECHNICAL = "TECHNICAL", "Technical"
    ML = "ML", "Machine learning"
    DL = "DL", "Deep learning"
    LLM = "LLM", "LLM-assisted"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLISHED = "published", "Published"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # private, never submitted
    PENDING = "pending", "Pending review"  # asked to be published; an operator decides
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class FileType(models.TextChoices):
    CODE = "CODE", "Code"
    MODEL = "MODEL", "Model"
    WEIGHTS = "WEIGHTS", "Weights"
    CONFIG = "CONFIG", "Config"
    DATA = "DATA", "Data"


class Framework(models.TextChoices):
    NONE = "", "None"
    TENSORFLOW = "tensorflow", "TensorFlow"
    PYTORCH = "pytorch", "PyTorch"
    SKLEARN = "sklearn", "scikit-learn"
    XGBOOST = "xgboost", "XGBoost"
    LIGHTGBM = "lightgbm", "LightGBM"
    ONNX = "onnx", "ONNX"


class Bot(models.Model):
    """A strategy in the catalog.

    Built-in bots (``builtin`` names a class of the SDK's registry) belong to the platform
    (no author). An author's bot runs its uploaded CODE in the sandbox, or a built-in
    strategy with the author's uploaded model. Other tenants see a bot only once it is
    published and an operator approved it.
    """

    tenant_field = "author"

    author = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="bots",
        help_text="the tenant that wrote it; empty for the platform's built-in bots",
    )  # fmt: skip
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120)
    bot_type = models.CharField("type", max_length=10, choices=BotType.choices, default=BotType.TECHNICAL)
    description = models.TextField(blank=True)
    version = models.CharField(max_length=40, default="1.0.0")
    builtin = models.CharField(
        max_length=60, blank=True, help_text="the SDK class it runs (sma_crossover, rsi, ...); empty: uploaded code"
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    strategy_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the strategy config")
    execution_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the execution config")
    risk_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the risk config")
    backtest_summary = models.JSONField(
        default=dict, blank=True, help_text="figures of its latest finished backtest on the shipped sample"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "slug"], name="uniq_bot_slug_per_author"),
            models.UniqueConstraint(
                fields=["slug"], condition=models.Q(author__isnull=True), name="uniq_builtin_bot_slug"
            ),
        ]
        indexes = [models.Index(fields=["visibility", "review_status"])]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def listed(self) -> bool:
        """In the marketplace for every tenant."""
        return self.visibility == Visibility.PUBLISHED and self.review_status == ReviewStatus.APPROVED


def bot_file_path(instance: BotFile, filename: str) -> str:
    # The checksum, not the uploader's name, names the file on disk: nothing to traverse.
    return f"bots/{instance.bot_id}/{instance.sha256[:16]}-{instance.file_type.lower()}"


class BotFile(models.Model):
    """An uploaded file of a bot, checked before it was saved (bots.safety)."""

    tenant_field = "bot__author"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="files")
    file_type = models.CharField(max_length=10, choices=FileType.choices)
    framework = models.CharField(max_length=12, choices=Framework.choices, blank=True)
    model_type = models.CharField(max_length=80, blank=True, help_text="e.g. classifier, regressor, LSTM")
    name = models.CharField(max_length=200, help_text="a name the bot's code loads it by")
    original_filename = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    file = models.FileField(upload_to=bot_file_path, max_length=255)
    format = models.CharField(max_length=20, help_text="detected from the bytes: skops, onnx, python, json, csv")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bot", "file_type", "name"]
        constraints = [models.UniqueConstraint(fields=["bot", "name"], name="uniq_bot_file_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.file_type}, {self.format})"

    def read(self) -> bytes:
        with self.file.open("rb") as handle:
            return handle.read()
