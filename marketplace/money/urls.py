from django.urls import path

from . import views

app_name = "money"

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("topups/<int:pk>/", views.topup, name="topup"),
    path("topups/<int:pk>/status/", views.topup_status, name="topup_status"),
    path("receipts/<int:pk>/", views.receipt, name="receipt"),
    path("earnings/<slug:slug>/", views.earnings, name="earnings"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
