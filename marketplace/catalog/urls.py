from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/<int:pk>", views.dataset_detail, name="dataset"),
    path("datasets/<int:pk>/edit/", views.dataset_edit, name="dataset_edit"),
    path("datasets/<int:pk>/upload/", views.upload, name="upload"),
    path("datasets/<int:pk>/check/", views.check_endpoint_now, name="check_endpoint"),
    path("datasets/<int:pk>/<str:vocabulary>.ttl", views.dataset_description, name="dataset_description"),
    path("ingest/<int:pk>/", views.ingest_job, name="ingest_job"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("publishers/<slug:slug>/datasets/new/", views.dataset_create, name="dataset_create"),
]
