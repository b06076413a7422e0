"""Sign-up, publisher applications, members and API tokens."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from . import services
from .forms import AddMemberForm, OrganisationApplyForm, SignUpForm
from .models import Membership, Organisation


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect("catalog:home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def account(request):
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/account.html", {"token": token})


@login_required
@require_POST
def token_rotate(request):
    services.api_token_rotate(user=request.user)
    messages.success(request, "A new API token was created; the old one no longer works.")
    return redirect("accounts:account")


@login_required
def organisation_apply(request):
    form = OrganisationApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = services.organisation_apply(user=request.user, **form.cleaned_data)
        messages.info(request, f"{organisation.name} is waiting for approval by the marketplace operators.")
        return redirect("accounts:organisation", slug=organisation.slug)
    return render(request, "accounts/organisation_apply.html", {"form": form})


@login_required
def organisation_detail(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug)
    membership = Membership.objects.filter(organisation=organisation, user=request.user).first()
    if membership is None and not request.user.is_staff:
        raise PermissionDenied
    form = AddMemberForm(request.POST or None)
    if request.method == "POST":
        if membership is None or membership.role != Membership.Role.OWNER:
            raise PermissionDenied
        if form.is_valid():
            services.member_add(organisation=organisation, user=form.cleaned_data["username"])
            messages.success(request, "Member added.")
            return redirect("accounts:organisation", slug=slug)
    return render(
        request,
        "accounts/organisation.html",
        {
            "organisation": organisation,
            "membership": membership,
            "members": organisation.memberships.select_related("user"),
            "form": form,
        },
    )
