"""The REST API's routes; each app registers its viewsets here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from marketplace.catalog import api as catalog_api

router = DefaultRouter()
router.register("publishers", catalog_api.PublisherViewSet, basename="publisher")
router.register("datasets", catalog_api.DatasetViewSet, basename="dataset")
router.register("ingest-jobs", catalog_api.IngestJobViewSet, basename="ingestjob")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include(router.urls)),
]
