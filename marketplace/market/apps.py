from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "marketplace.market"
    label = "market"
    verbose_name = "Query market"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from marketplace import api_errors

        from . import catalog_version, errors

        post_migrate.connect(catalog_version.install_after_migrate, sender=self)

        api_errors.register(errors.PaymentRequired, 402)
        api_errors.register(errors.NotAllowed, 403)
        api_errors.register(errors.NotReady, 409)
        api_errors.register(errors.TooManyQuotes, 429)
        api_errors.register(errors.MarketError, 400)
