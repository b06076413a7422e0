"""The model hub app: compressed neural-network models, their variants and artifact files."""

from django.apps import AppConfig


class ModelhubConfig(AppConfig):
    name = "modelhub"
    label = "modelhub"
    verbose_name = "Model hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from marketplace import api_errors

        from .services.errors import register_api_errors

        register_api_errors(api_errors.register)
