"""The REST API's routes; each app registers its viewsets here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from marketplace.catalog import api as catalog_api
from marketplace.market import api as market_api
from marketplace.money import api as money_api
from modelhub import api as modelhub_api

router = DefaultRouter()
router.register("publishers", catalog_api.PublisherViewSet, basename="publisher")
router.register("datasets", catalog_api.DatasetViewSet, basename="dataset")
router.register("ingest-jobs", catalog_api.IngestJobViewSet, basename="ingestjob")
router.register("wallet/topups", money_api.TopUpViewSet, basename="topup")
router.register("wallet/statement", money_api.StatementViewSet, basename="wallet-statement")
router.register("wallet", money_api.WalletViewSet, basename="wallet")
router.register("purchases", money_api.PurchaseViewSet, basename="purchase")
router.register(r"publishers/(?P<publisher_slug>[^/.]+)/earnings", money_api.EarningsViewSet, basename="earnings")
router.register("payouts", money_api.PayoutViewSet, basename="payout")
router.register("refunds", money_api.RefundViewSet, basename="refund")
router.register("queries", market_api.QueryViewSet, basename="query")
router.register("price-models", market_api.PriceModelViewSet, basename="price-model")
router.register("subscriptions", market_api.SubscriptionViewSet, basename="subscription")
modelhub_api.register(router)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include(router.urls)),
]
