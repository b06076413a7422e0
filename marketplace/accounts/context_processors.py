"""Puts the signed-in user's organisations in every template (navigation)."""

from .selectors import organisations_of


def memberships(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_organisations": []}
    return {"my_organisations": list(organisations_of(user=user))}
