"""URLs of the hub's pages and of the compression vocabulary."""

from django.urls import path

from . import views

app_name = "modelhub"

urlpatterns = [
    path("models/", views.browse, name="browse"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/files/<int:pk>/download/", views.artifact_download, name="download"),
    path("models/files/<int:pk>/link/", views.download_link, name="download_link"),
    path("models/d/<str:token>/", views.signed_download, name="signed_download"),
    path("models/jobs/<int:pk>/", views.job_detail, name="job"),
    path("models/jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("models/<slug:slug>/edit/", views.model_edit, name="model_edit"),
    path("models/<slug:slug>/compare/", views.compare, name="compare"),
    path("models/<slug:slug>/publish/", views.publish, name="publish"),
    path("models/<slug:slug>/variants/new/", views.variant_create, name="variant_create"),
    path("models/<slug:slug>/variants/<int:pk>/", views.variant_detail, name="variant"),
    path("models/<slug:slug>/variants/<int:pk>/edit/", views.variant_edit, name="variant_edit"),
    path("models/<slug:slug>/variants/<int:pk>/upload/", views.artifact_upload, name="upload"),
    path("models/<slug:slug>/variants/<int:pk>/buy/", views.variant_buy_view, name="buy"),
    path("models/<slug:slug>/variants/<int:pk>/compress/", views.compress, name="compress"),
    path("vocab/compression", views.vocabulary, name="vocabulary"),
]
