from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from . import services
from .models import Membership, Organisation, User


@admin.register(User)
class MarketplaceUserAdmin(UserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "date_joined")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "member_count", "created_at", "approved_at")
    list_filter = ("status",)
    search_fields = ("name", "description", "memberships__user__username")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
    actions = ["approve", "reject"]
    readonly_fields = ("approved_at", "approved_by")

    @admin.display(description="Members")
    def member_count(self, obj):
        return obj.memberships.count()

    @admin.action(description="Approve selected publishers")
    def approve(self, request, queryset):
        for organisation in queryset:
            services.organisation_approve(organisation=organisation, by=request.user)
        messages.success(request, f"Approved {queryset.count()} publisher(s).")

    @admin.action(description="Reject selected publishers")
    def reject(self, request, queryset):
        for organisation in queryset:
            services.organisation_reject(organisation=organisation)
