from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Marketplace operations"
admin.site.site_title = "Marketplace admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("marketplace.accounts.urls")),
    path("wallet/", include("marketplace.money.urls")),
    path("", include("modelhub.urls")),
    path("", include("marketplace.market.urls")),
    path("", include("marketplace.catalog.urls")),
]
