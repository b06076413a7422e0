"""Catalog pages: browse and search, dataset pages, the publisher dashboard, uploads with progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for, organisations_of

from .forms import DatasetForm, UploadForm
from .models import ClassCount, Dataset, IngestJob, PredicateCount, Tag
from .selectors import datasets_search, datasets_visible_to
from .services import datasets as dataset_services
from .services import describe
from .services.formats import UnsupportedFormat
from .services.ingest import IngestError, UploadTooLarge, check_declared_size, ingest_create
from .services.safety import UnsafeInput


def home(request):
    filters = {
        "text": request.GET.get("q", "").strip(),
        "publisher": request.GET.get("publisher", ""),
        "tag": request.GET.get("tag", ""),
        "predicate": request.GET.get("predicate", ""),
        "klass": request.GET.get("class", ""),
        "kind": request.GET.get("kind", ""),
    }
    results = datasets_search(user=request.user, **filters)
    page = Paginator(results, 20).get_page(request.GET.get("page"))
    visible = datasets_visible_to(user=request.user)
    context = {
        "page": page,
        "filters": filters,
        "publishers": Organisation.objects.filter(datasets__in=visible).distinct(),
        "tags": Tag.objects.filter(datasets__in=visible).distinct(),
        "predicates": PredicateCount.objects.filter(dataset__in=visible)
        .values_list("iri", flat=True)
        .distinct()
        .order_by("iri")[:300],
        "classes": ClassCount.objects.filter(dataset__in=visible)
        .values_list("iri", flat=True)
        .distinct()
        .order_by("iri")[:300],
    }
    return render(request, "catalog/home.html", context)


def _visible_dataset(request, pk: int) -> Dataset:
    dataset = datasets_visible_to(user=request.user).filter(pk=pk).select_related("publisher").first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def _editable_dataset(request, pk: int) -> Dataset:
    dataset = get_object_or_404(Dataset.objects.select_related("publisher"), pk=pk)
    if not can_publish_for(user=request.user, organisation=dataset.publisher):
        raise PermissionDenied
    return dataset


def dataset_detail(request, pk: int):
    dataset = _visible_dataset(request, pk)
    can_edit = can_publish_for(user=request.user, organisation=dataset.publisher)
    context = {
        "dataset": dataset,
        "summary": getattr(dataset, "summary", None),
        "predicates": dataset.predicates.all()[:200],
        "classes": dataset.classes.all()[:200],
        "schema_org": describe.dataset_schema_org(dataset),
        "can_edit": can_edit,
        "jobs": dataset.ingest_jobs.all()[:5] if can_edit else [],
    }
    return render(request, "catalog/dataset_detail.html", context)


def dataset_description(request, pk: int, vocabulary: str):
    dataset = _visible_dataset(request, pk)
    if vocabulary not in ("void", "dcat"):
        raise Http404
    response = HttpResponse(describe.dataset_turtle(dataset, vocabulary=vocabulary), content_type="text/turtle")
    response["Content-Disposition"] = f'attachment; filename="{dataset.slug}-{vocabulary}.ttl"'
    return response


@login_required
def dashboard(request):
    organisations = organisations_of(user=request.user)
    datasets = (
        Dataset.objects.filter(publisher__in=organisations)
        .select_related("publisher", "summary")
        .prefetch_related("ingest_jobs")
        .order_by("publisher__name", "title")
    )
    return render(request, "catalog/dashboard.html", {"organisations": organisations, "datasets": datasets})


@login_required
def dataset_create(request, slug: str):
    publisher = get_object_or_404(Organisation, slug=slug)
    if not can_publish_for(user=request.user, organisation=publisher):
        raise PermissionDenied("Only members of an approved publisher can register datasets.")
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        try:
            dataset = dataset_services.dataset_create(publisher=publisher, tags=form.tag_list(), **data)
        except UnsafeInput as exc:
            form.add_error("endpoint_url", str(exc))
        else:
            messages.success(request, "Dataset registered. It appears in the catalog once an operator approves it.")
            if dataset.kind == Dataset.Kind.HOSTED:
                return redirect("catalog:upload", pk=dataset.pk)
            return redirect(dataset)
    return render(request, "catalog/dataset_form.html", {"form": form, "publisher": publisher})


@login_required
def dataset_edit(request, pk: int):
    dataset = _editable_dataset(request, pk)
    initial = {"tags": ", ".join(t.name for t in dataset.tags.all())}
    form = DatasetForm(request.POST or None, instance=dataset, initial=initial)
    form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("tags", "kind")}
        try:
            dataset_services.dataset_update(dataset=dataset, tags=form.tag_list(), **data)
        except UnsafeInput as exc:
            form.add_error("endpoint_url", str(exc))
        else:
            messages.success(request, "Saved.")
            return redirect(dataset)
    return render(
        request, "catalog/dataset_form.html", {"form": form, "publisher": dataset.publisher, "dataset": dataset}
    )


@login_required
def upload(request, pk: int):
    dataset = _editable_dataset(request, pk)
    if dataset.kind != Dataset.Kind.HOSTED:
        messages.error(request, "Remote datasets are served by their endpoint; there is nothing to upload.")
        return redirect(dataset)
    if request.method == "POST":
        try:
            check_declared_size(request.META.get("CONTENT_LENGTH"))
        except UploadTooLarge as exc:
            return HttpResponse(str(exc), status=413, content_type="text/plain")
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                job = ingest_create(
                    dataset=dataset,
                    upload=upload_file,
                    filename=upload_file.name,
                    size=upload_file.size,
                    user=request.user,
                    declared_format=form.cleaned_data.get("format") or None,
                )
            except (IngestError, UnsupportedFormat, UnsafeInput) as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("catalog:ingest_job", pk=job.pk)
        status = 400
    return render(request, "catalog/upload.html", {"form": form, "dataset": dataset}, status=status)


@login_required
def ingest_job(request, pk: int):
    job = get_object_or_404(IngestJob.objects.select_related("dataset__publisher"), pk=pk)
    if not can_publish_for(user=request.user, organisation=job.dataset.publisher):
        raise PermissionDenied
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(ingest_job_json(job))
    return render(request, "catalog/ingest_job.html", {"job": job, "dataset": job.dataset})


def ingest_job_json(job: IngestJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress_percent,
        "bytes_done": job.bytes_done,
        "size_bytes": job.size_bytes,
        "triples_loaded": job.triples_loaded,
        "error": job.error,
        "error_line": job.error_line,
        "finished": job.finished,
    }


@login_required
@require_POST
def check_endpoint_now(request, pk: int):
    dataset = _editable_dataset(request, pk)
    from .tasks import check_endpoint

    check_endpoint.delay(dataset.pk)
    messages.info(request, "Health check queued.")
    return redirect("catalog:dashboard")
