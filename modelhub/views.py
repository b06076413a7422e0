"""Hub pages: browse and filter, model and variant pages, comparison, uploads, purchases, downloads, jobs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from marketplace.accounts.selectors import can_publish_for

from . import charts, rdf, selectors, serving, upload
from .forms import CompressForm, FilterForm, ModelForm, UploadForm, VariantForm
from .models import Artifact, CompressionJob, HubModel, Variant
from .services import catalog as catalog_services
from .services import compression as compression_services
from .services.artifacts import artifact_create
from .services.cards import card_html, card_parse
from .services.downloads import download_counted, download_token, token_artifact
from .services.errors import InvalidMetadata, ModelhubError, PurchaseFailed
from .services.purchases import can_download, variant_buy


def _model_for(request: HttpRequest, slug: str) -> tuple[HubModel, bool]:
    model = get_object_or_404(HubModel.objects.select_related("publisher"), slug=slug)
    is_publisher = can_publish_for(user=request.user, organisation=model.publisher)
    return model, is_publisher


def _variant_for(request: HttpRequest, slug: str, pk: int) -> tuple[Variant, bool]:
    model, is_publisher = _model_for(request, slug)
    variant = get_object_or_404(Variant.objects.select_related("model__publisher", "derived_from"), model=model, pk=pk)
    if not variant.published and not is_publisher:
        raise Http404("No such variant.")
    return variant, is_publisher


def browse(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = form.filters() if request.GET else FilterForm().filters()
    models = selectors.models_filtered(user=request.user, filters=filters)
    variants = selectors.variants_filtered(user=request.user, filters=filters)[:200]
    return render(request, "modelhub/browse.html", {"form": form, "models": models, "variants": variants})


def _chart_points(variants: list[Variant], x_field: str) -> list[charts.Point]:
    return [
        charts.Point(v.name, getattr(v, x_field), v.accuracy * 100)
        for v in variants
        if getattr(v, x_field) and v.accuracy is not None
    ]


def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model, is_publisher = _model_for(request, slug)
    variants = selectors.model_variants(user=request.user, model=model)
    if not variants and not is_publisher:
        raise Http404("No such model.")
    accept = request.headers.get("Accept", "")
    if "text/turtle" in accept and "text/html" not in accept:
        response = HttpResponse(rdf.model_turtle(model), content_type="text/turtle; charset=utf-8")
        response["Vary"] = "Accept"
        return response
    try:
        card = card_parse(model.card)
        body = card_html(card.body)
    except InvalidMetadata as exc:
        body = f'<p class="muted">{exc}</p>'
    context = {
        "model": model,
        "variants": variants,
        "is_publisher": is_publisher,
        "card_html": body,
        "card_meta": model.card_metadata,
        "size_chart": charts.scatter_svg(
            _chart_points(variants, "size_bytes"), x_label="size (bytes, log)", y_label="accuracy (%)"
        ),
        "jobs": model_jobs(model) if is_publisher else [],
        "unpublished": [v for v in variants if not v.published],
    }
    return render(request, "modelhub/model_detail.html", context)


def model_jobs(model: HubModel):
    return CompressionJob.objects.filter(source__model=model).order_by("-created_at")[:10]


def compare(request: HttpRequest, slug: str) -> HttpResponse:
    model, is_publisher = _model_for(request, slug)
    variants = selectors.model_variants(user=request.user, model=model)
    if not variants:
        raise Http404("No such model.")
    picked = request.GET.getlist("v")
    if picked:
        variants = [v for v in variants if str(v.pk) in picked] or variants
    rows = [
        ("method", "method"),
        ("weight bits", "weight_bits"),
        ("activation bits", "activation_bits"),
        ("granularity", "granularity"),
        ("symmetric", "symmetric"),
        ("codebook size", "codebook_size"),
        ("sparsity", "sparsity"),
        ("parameters", "parameter_count"),
        ("size (bytes)", "size_bytes"),
        ("accuracy", "accuracy"),
        ("reference accuracy", "reference_accuracy"),
        ("evaluation set", "evaluation_set"),
        ("latency (ms)", "latency_ms"),
        ("memory (bytes)", "memory_bytes"),
        ("hardware", "hardware"),
        ("price", "price"),
    ]
    table = [(label, [_shown(field, getattr(v, field)) for v in variants]) for label, field in rows]
    context = {
        "model": model,
        "variants": variants,
        "table": table,
        "size_chart": charts.scatter_svg(
            _chart_points(variants, "size_bytes"), x_label="size (bytes, log)", y_label="accuracy (%)"
        ),
        "latency_chart": charts.scatter_svg(
            _chart_points(variants, "latency_ms"), x_label="latency (ms, log)", y_label="accuracy (%)"
        ),
    }
    return render(request, "modelhub/compare.html", context)


def variant_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    variant, is_publisher = _variant_for(request, slug, pk)
    artifacts = list(variant.artifacts.all())
    sensitivity_rows = _sensitivity_rows(variant.sensitivity)
    context = {
        "variant": variant,
        "model": variant.model,
        "is_publisher": is_publisher,
        "artifacts": artifacts,
        "may_download": can_download(user=request.user, variant=variant),
        "pending": any(
            a.inspection_status in (Artifact.Inspection.PENDING, Artifact.Inspection.RUNNING) for a in artifacts
        ),
        "sensitivity_chart": charts.bars_svg(
            sensitivity_rows, label="accuracy drop (points), only this layer at 4-bit linear"
        )
        if sensitivity_rows
        else "",
        "histogram_charts": _histogram_charts(variant.histograms),
        "upload_form": UploadForm() if is_publisher else None,
        "compress_form": CompressForm() if is_publisher else None,
        "upload_limit": upload.upload_limit(),
    }
    return render(request, "modelhub/variant_detail.html", context)


def _sensitivity_rows(table, *, method: str = "linear", bits: int = 4) -> list[tuple[str, float]]:
    """Per layer, the accuracy drop (points) when only that layer is quantised with `method` at `bits`."""
    if not table:
        return []
    out = []
    for row in (table.get("rows") or [])[:40]:
        points = [p for p in row.get("points") or [] if isinstance(p, dict)]
        chosen = [p for p in points if p.get("method") == method and p.get("bits") == bits] or points
        if chosen:
            out.append((str(row.get("layer") or row.get("weight") or "?"), float(chosen[0].get("drop_points") or 0.0)))
    return out


def _histogram_charts(histograms) -> list[tuple[str, str]]:
    """Weight and activation histograms per layer as bar charts (bins merged to at most 16 bars)."""
    out = []
    for item in (histograms or [])[:6]:
        for kind in ("weights", "activations"):
            hist = item.get(kind) or {}
            counts, edges = hist.get("counts") or [], hist.get("bin_edges") or []
            if not counts:
                continue
            step = max(len(counts) // 16, 1)
            rows = [
                (f"{edges[i]:.3g}" if i < len(edges) else str(i), float(sum(counts[i : i + step])))
                for i in range(0, len(counts), step)
            ]
            title = f"{kind} of {item.get('layer') or item.get('weight') or '?'}"
            out.append((title, charts.bars_svg(rows, label=title, bar_height=10)))
    return out


@login_required
@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    form = ModelForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            model = catalog_services.model_create(
                user=request.user,
                publisher=d["publisher"],
                name=d["name"],
                task=d["task"],
                licence=d["licence"],
                card=d["card"],
                price=d["price"],
            )
        except ModelhubError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Model created; add its variants and files.")
            return redirect("modelhub:variant_create", slug=model.slug)
    return render(
        request, "modelhub/form.html", {"form": form, "title": "New model"}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, slug: str) -> HttpResponse:
    model, is_publisher = _model_for(request, slug)
    if not is_publisher:
        raise PermissionDenied
    form = ModelForm(request.POST or None, instance=model, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            catalog_services.model_update(
                user=request.user,
                model=HubModel.objects.get(pk=model.pk),
                **{k: form.cleaned_data[k] for k in ("name", "task", "licence", "card", "price")},
            )
        except ModelhubError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("modelhub:model", slug=model.slug)
    return render(
        request, "modelhub/form.html", {"form": form, "title": f"Edit {model.name}"}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def variant_create(request: HttpRequest, slug: str) -> HttpResponse:
    model, is_publisher = _model_for(request, slug)
    if not is_publisher:
        raise PermissionDenied
    form = VariantForm(request.POST or None, model=model, initial={"price": model.price})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            variant = catalog_services.variant_create(
                user=request.user,
                model=model,
                name=d["name"],
                derived_from=d["derived_from"],
                price=d["price"],
                published=d["published"],
                metadata=form.metadata(),
            )
        except ModelhubError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("modelhub:variant", slug=model.slug, pk=variant.pk)
    return render(
        request,
        "modelhub/form.html",
        {"form": form, "title": f"New variant of {model.name}"},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def variant_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    variant, is_publisher = _variant_for(request, slug, pk)
    if not is_publisher:
        raise PermissionDenied
    form = VariantForm(request.POST or None, instance=variant, model=variant.model)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            catalog_services.variant_update(
                user=request.user,
                variant=Variant.objects.get(pk=variant.pk),
                metadata=form.metadata(),
                name=d["name"],
                derived_from=d["derived_from"],
                price=d["price"],
                published=d["published"],
            )
        except ModelhubError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("modelhub:variant", slug=slug, pk=pk)
    return render(
        request, "modelhub/form.html", {"form": form, "title": f"Edit {variant}"}, status=400 if form.errors else 200
    )


def _too_large(limit: int) -> HttpResponse:
    return HttpResponse(
        f"The upload is larger than the limit of {limit:,} bytes.", status=413, content_type="text/plain"
    )


@csrf_exempt
def artifact_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The upload handler must be installed before CSRF checking reads the body, hence exempt-then-protect."""
    if request.method == "POST":
        if upload.too_large_by_header(request):
            return _too_large(upload.upload_limit())
        handler = upload.install(request)
        try:
            return _artifact_upload(request, slug, pk, handler)
        finally:
            handler.discard()  # whatever was not moved into storage is deleted
    return _artifact_upload(request, slug, pk, None)


@csrf_protect
@login_required
def _artifact_upload(request: HttpRequest, slug: str, pk: int, handler) -> HttpResponse:
    variant, is_publisher = _variant_for(request, slug, pk)
    if not is_publisher:
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    if handler is not None and handler.too_large:
        return _too_large(handler.limit)
    if request.method == "POST" and form.is_valid():
        try:
            artifact_create(user=request.user, variant=variant, upload=form.cleaned_data["file"])
        except ModelhubError as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, "File stored; it is being inspected.")
            return redirect("modelhub:variant", slug=slug, pk=pk)
    return render(
        request,
        "modelhub/form.html",
        {"form": form, "title": f"Upload a file to {variant}", "multipart": True},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def variant_buy_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    variant, _ = _variant_for(request, slug, pk)
    try:
        variant_buy(buyer=request.user, variant=variant)
    except (PurchaseFailed, ModelhubError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Bought: the files are yours to download.")
    return redirect("modelhub:variant", slug=slug, pk=pk)


@require_http_methods(["GET", "HEAD"])
def artifact_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Free files stream directly; priced ones redirect the entitled to a fresh signed link."""
    artifact = get_object_or_404(Artifact.objects.select_related("variant__model__publisher"), pk=pk)
    variant = artifact.variant
    if not can_download(user=request.user, variant=variant):
        if not variant.published:
            raise Http404("No such file.")
        return HttpResponse("Buy this variant to download its files.", status=402, content_type="text/plain")
    if variant.is_free and variant.published:
        return _serve(request, artifact)
    token = download_token(user=request.user, artifact=artifact)
    return redirect("modelhub:signed_download", token=token)


@require_http_methods(["GET", "HEAD"])
def signed_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        artifact = token_artifact(token)
    except ModelhubError as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain")
    return _serve(request, artifact)


def _serve(request: HttpRequest, artifact: Artifact) -> HttpResponse:
    response, counts = serving.artifact_response(request, artifact)
    if counts:
        download_counted(artifact=artifact)
    return response


@login_required
@require_POST
def download_link(request: HttpRequest, pk: int) -> HttpResponse:
    artifact = get_object_or_404(Artifact.objects.select_related("variant__model__publisher"), pk=pk)
    try:
        token = download_token(user=request.user, artifact=artifact)
    except ModelhubError as exc:
        return HttpResponse(str(exc), status=402, content_type="text/plain")
    return JsonResponse({"url": request.build_absolute_uri(reverse("modelhub:signed_download", args=[token]))})


@login_required
@require_POST
def compress(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    variant, is_publisher = _variant_for(request, slug, pk)
    if not is_publisher:
        raise PermissionDenied
    form = CompressForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            job = compression_services.job_create(
                user=request.user,
                source=variant,
                eval_file=form.cleaned_data["eval_set"],
                eval_name=form.cleaned_data["eval_name"],
                methods=form.method_specs(),
            )
        except ModelhubError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("modelhub:job", pk=job.pk)
    else:
        messages.error(request, "Choose an .npz evaluation set and at least one method.")
    return redirect("modelhub:variant", slug=slug, pk=pk)


def _job_for(request: HttpRequest, pk: int) -> CompressionJob:
    job = get_object_or_404(CompressionJob.objects.select_related("source__model__publisher"), pk=pk)
    if not can_publish_for(user=request.user, organisation=job.source.model.publisher):
        raise Http404("No such job.")
    return job


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {
                "progress": job.progress,
                "status_label": job.get_status_display(),
                "finished": job.finished,
                "message": job.message,
            }
        )
    made = Variant.objects.filter(pk__in=(job.result or {}).get("variants", []))
    return render(request, "modelhub/job.html", {"job": job, "made": made})


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    compression_services.job_cancel(user=request.user, job=job)
    return redirect("modelhub:job", pk=pk)


@login_required
@require_POST
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    model, is_publisher = _model_for(request, slug)
    if not is_publisher:
        raise PermissionDenied
    ids = [int(x) for x in request.POST.getlist("variant") if x.isdigit()]
    variants = list(model.variants.filter(pk__in=ids))
    prices = {}
    for v in variants:
        raw = request.POST.get(f"price_{v.pk}", "").strip()
        if raw:
            if not raw.isdigit():
                messages.error(request, f"The price of {v.name} must be a whole number of minor units.")
                return redirect("modelhub:model", slug=slug)
            prices[v.pk] = int(raw)
    compression_services.variants_publish(user=request.user, variants=variants, prices=prices)
    messages.success(request, f"Published {len(variants)} variant(s).")
    return redirect("modelhub:model", slug=slug)


def vocabulary(request: HttpRequest) -> HttpResponse:
    """Our compression vocabulary at a stable IRI: Turtle for machines, HTML for people."""
    accept = request.headers.get("Accept", "")
    wants_turtle = request.GET.get("format") == "ttl" or ("text/turtle" in accept and "text/html" not in accept)
    if wants_turtle:
        response = HttpResponse(rdf.vocabulary_turtle(), content_type="text/turtle; charset=utf-8")
    else:
        response = render(request, "modelhub/vocabulary.html", {"terms": rdf.TERMS, "base": rdf.vocab_base()})
    response["Vary"] = "Accept"
    return response


def _shown(field: str, value):
    """Values as a person reads them: accuracy in percent, money in the currency, sizes with separators."""
    if value is None or value == "":
        return None
    if field in ("accuracy", "reference_accuracy"):
        return f"{value * 100:.2f} %"
    if field == "sparsity":
        return f"{value * 100:.1f} %"
    if field == "latency_ms":
        return f"{value:.3f}"
    if field == "price":
        from marketplace.money.currency import format_amount

        return format_amount(int(value)) if value else "free"
    if field in ("size_bytes", "memory_bytes", "parameter_count"):
        return f"{int(value):,}"
    return value
