"""Read paths of the catalog: what a visitor may see, search and filters."""

from django.db.models import Q, QuerySet

from marketplace.accounts.selectors import organisations_of

from .models import Dataset


def datasets_visible_to(*, user) -> QuerySet[Dataset]:
    """Approved datasets of approved publishers for everyone; a publisher's members also see its others."""
    visible = Q(status=Dataset.Status.APPROVED, publisher__status="approved")
    if user is not None and user.is_authenticated:
        if user.is_staff:
            return Dataset.objects.all()
        visible |= Q(publisher__in=organisations_of(user=user))
    return Dataset.objects.filter(visible)


def datasets_search(
    *,
    user,
    text: str = "",
    publisher: str = "",
    tag: str = "",
    predicate: str = "",
    klass: str = "",
    kind: str = "",
) -> QuerySet[Dataset]:
    qs = datasets_visible_to(user=user).select_related("publisher", "summary").prefetch_related("tags")
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(description__icontains=text) | Q(tags__name__icontains=text))
    if publisher:
        qs = qs.filter(publisher__slug=publisher)
    if tag:
        qs = qs.filter(tags__name=tag)
    if predicate:
        qs = qs.filter(predicates__iri=predicate)
    if klass:
        qs = qs.filter(classes__iri=klass)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.distinct().order_by("title")


def datasets_for_predicate(*, predicate: str) -> QuerySet[Dataset]:
    return Dataset.objects.filter(predicates__iri=predicate).distinct()
