from django.urls import path

from . import sparql_views, views

app_name = "market"

urlpatterns = [
    path("sparql", sparql_views.catalog_endpoint, name="sparql"),
    path("sparql/data", sparql_views.data_endpoint, name="sparql-data"),
    path("sparql/help/", views.sparql_help, name="sparql-help"),
    path("offers/", views.offers, name="offers"),
    path("queries/", views.job_list, name="jobs"),
    path("queries/<uuid:pk>/", views.job_detail, name="job"),
    path("queries/<uuid:pk>/status.json", views.job_status, name="job-status"),
    path("queries/<uuid:pk>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("queries/<uuid:pk>/requote/", views.job_requote, name="job-requote"),
    path("queries/<uuid:pk>/buy/", views.job_buy, name="job-buy"),
    path("queries/<uuid:pk>/results/", views.job_results, name="results"),
    path("queries/<uuid:pk>/download/<str:fmt>/", views.job_download, name="download"),
    path("queries/<uuid:pk>/receipt/", views.job_receipt, name="receipt"),
    path("market/datasets/<int:pk>/price/", views.price_model_edit, name="price-model"),
    path("market/datasets/<int:pk>/subscribe/", views.subscribe, name="subscribe"),
]
