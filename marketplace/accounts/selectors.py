"""Read paths for accounts."""

from .models import Membership, Organisation, User


def organisations_of(*, user: User):
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).distinct()


def can_publish_for(*, user: User, organisation: Organisation) -> bool:
    """Members of an approved organisation publish for it; staff may act for any organisation."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return organisation.is_approved and Membership.objects.filter(organisation=organisation, user=user).exists()
