"""Write paths for accounts: sign-up, publisher applications and their approval, API tokens."""

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import Membership, Organisation, User


@transaction.atomic
def organisation_apply(*, user: User, name: str, description: str = "", homepage: str = "") -> Organisation:
    """A user applies to publish; the organisation waits for staff approval."""
    organisation = Organisation.objects.create(name=name, description=description, homepage=homepage)
    Membership.objects.create(organisation=organisation, user=user, role=Membership.Role.OWNER)
    return organisation


def organisation_approve(*, organisation: Organisation, by: User | None) -> Organisation:
    organisation.status = Organisation.Status.APPROVED
    organisation.approved_at = timezone.now()
    organisation.approved_by = by
    organisation.save(update_fields=["status", "approved_at", "approved_by"])
    return organisation


def organisation_reject(*, organisation: Organisation) -> Organisation:
    organisation.status = Organisation.Status.REJECTED
    organisation.save(update_fields=["status"])
    return organisation


def member_add(*, organisation: Organisation, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(organisation=organisation, user=user, defaults={"role": role})
    return membership


def api_token_rotate(*, user: User) -> Token:
    """Replace the user's API token; the old one stops working at once."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)
