"""The SPARQL 1.1 Protocol endpoints: /sparql answers over the free catalog; /sparql/data answers over the
providers' data and buys the answer automatically up to the stated budget, else answers 402 with the quote."""

from __future__ import annotations

import base64
import binascii

import pyoxigraph as ox
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from marketplace.money.services import InsufficientFunds, MoneyError

from . import disclosure, protocol, sandbox
from .catalog_graph import catalog_store
from .errors import InvalidAsk, MarketError, NotAllowed
from .models import QueryJob
from .selectors import latest_quote
from .services import delivery
from .services.purchases import quote_purchase
from .services.queries import TIMED_OUT, TOO_LARGE, job_create, job_message, job_run

OX_RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
OX_GRAPHS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _not_acceptable_message(graph: bool) -> str:
    table = protocol.GRAPH_TYPES if graph else protocol.RESULT_TYPES
    return "Not acceptable; this endpoint answers " + ", ".join(table.values())


def _not_acceptable(graph: bool) -> HttpResponse:
    return _error(406, _not_acceptable_message(graph))


def _read(request) -> protocol.ProtocolRequest:
    req = protocol.read_request(request)
    if req.default_graphs or req.named_graphs:
        raise InvalidAsk(
            "default-graph-uri and named-graph-uri are not supported: every query runs over the default graph."
        )
    protocol.check_no_service(req.query)
    return req


def _repair_query_string(request) -> None:
    """Clients that append '?query=...' to an endpoint URL that already has parameters (Comunica does) send
    'budget=5?query=...': a raw '?' cannot appear in an encoded value, so it can only be such a joint."""
    raw = request.META.get("QUERY_STRING", "")
    if "?" in raw:
        request.GET = QueryDict(raw.replace("?", "&"))


def _wants_help(request) -> bool:
    return request.method == "GET" and "query" not in request.GET and "text/html" in request.headers.get("Accept", "")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def catalog_endpoint(request):
    """The catalog (publishers, datasets with VoID/DCAT, price models, models): free, no sign-in."""
    _repair_query_string(request)
    if _wants_help(request):
        return HttpResponseRedirect(reverse("market:sparql-help"))
    try:
        req = _read(request)
    except MarketError as exc:
        return _error(400, str(exc))

    def render(answer) -> tuple[bytes, str]:
        graph = isinstance(answer, ox.QueryTriples)
        key = protocol.negotiate(request, graph=graph)
        if key is None:
            raise sandbox.Rendered(406, _not_acceptable_message(graph))
        # results are computed as they are written: evaluation errors surface here
        return answer.serialize(format=OX_GRAPHS[key] if graph else OX_RESULTS[key]), protocol.content_type(key)

    try:
        outcome = sandbox.run_limited(
            catalog_store(),
            req.query,
            render,
            seconds=settings.MARKET_CATALOG_TIME_LIMIT,
            max_bytes=settings.MARKET_CATALOG_MAX_BYTES,
            max_memory=settings.MARKET_CATALOG_MAX_MEMORY,
        )
    except OSError:  # no process to run it in (the machine's process or memory limit)
        return _error(503, "The catalog cannot take more queries right now; try again shortly.")
    if outcome.status != 200:
        return _error(outcome.status, outcome.body.decode("utf-8", errors="replace"))
    return HttpResponse(outcome.body, content_type=outcome.content_type)


def _token_user(request):
    """API token (Authorization: Token|Bearer KEY) or HTTP Basic with the token or the password as secret.

    Session cookies are not accepted: a cross-site form could otherwise make a signed-in browser buy data."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer") and value:
        token = Token.objects.select_related("user").filter(key=value.strip()).first()
        return token.user if token and token.user.is_active else None
    if scheme == "basic" and value:
        try:
            username, _, secret = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        token = Token.objects.select_related("user").filter(key=secret, user__username=username).first()
        if token is not None and token.user.is_active:
            return token.user
        return authenticate(request, username=username, password=secret)
    return None


def _amount(request, name: str, header: str) -> int | None:
    form = request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"
    raw = request.GET.get(name) or (request.POST.get(name) if form else None) or request.headers.get(header)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidAsk(f"{name} must be a whole number of minor units.") from None
    if value < 0:
        raise InvalidAsk(f"{name} must be 0 or more.")
    return value


def _list(request, name: str, header: str) -> list[str]:
    form = request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"
    values = request.GET.getlist(name) + (request.POST.getlist(name) if form else [])
    if request.headers.get(header):
        values.append(request.headers[header])
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _payment_required(request, job: QueryJob, message: str) -> JsonResponse:
    quote = latest_quote(job=job)
    body = {
        "detail": message,
        "quote": disclosure.quote_public(quote) if quote is not None else None,
        "quote_url": request.build_absolute_uri(reverse("market:job", kwargs={"pk": job.pk})),
        "api_url": request.build_absolute_uri(f"/api/queries/{job.pk}/"),
        "purchase_url": request.build_absolute_uri(f"/api/queries/{job.pk}/purchase/"),
        "help_url": request.build_absolute_uri(reverse("market:sparql-help")),
    }
    return JsonResponse(body, status=402, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def data_endpoint(request):
    """Providers' data: needs an API token; buys the complete answer if it fits the budget, else 402."""
    _repair_query_string(request)
    if _wants_help(request):
        return HttpResponseRedirect(reverse("market:sparql-help"))
    user = _token_user(request)
    if user is None:
        response = _error(
            401,
            "Data queries need an API token: Authorization: Token <key> (or HTTP Basic, the token as password).",
        )
        response["WWW-Authenticate"] = 'Basic realm="marketplace data", charset="UTF-8"'
        return response
    try:
        req = _read(request)
        budget = _amount(request, "budget", "X-Budget")
        value_per_row = _amount(request, "value-per-row", "X-Value-Per-Row")
        job = job_create(
            buyer=user,
            query=req.query,
            value_per_row=value_per_row,
            budget=budget or 0,
            include=_list(request, "include", "X-Include"),
            exclude=_list(request, "exclude", "X-Exclude"),
            via="sparql",
            run=False,
        )
    except NotAllowed as exc:
        return _error(403, str(exc))
    except MarketError as exc:
        return _error(400, str(exc))
    graph = job.kind == "CONSTRUCT"
    key = protocol.negotiate(request, graph=graph)
    if key is None:
        return _not_acceptable(graph)
    job = job_run(
        job_id=job.pk, asked=job_message(job), time_limit=settings.MARKET_SPARQL_TIME_LIMIT, evaluate_apart=True
    )
    if job.status != QueryJob.Status.QUOTED:
        if job.error.startswith(TIMED_OUT):
            return _error(504, job.error)
        if job.error.startswith(TOO_LARGE):
            return _error(413, job.error)
        return _error(502 if "provider" in job.error else 400, job.error or "The query could not be answered.")
    quote = latest_quote(job=job)
    if not quote.complete:
        return _payment_required(
            request,
            job,
            "The complete answer does not fit the budget; raise it (budget parameter or X-Budget header) or buy this quote.",
        )
    try:
        quote_purchase(buyer=user, job=job, quote_id=quote.pk)
    except InsufficientFunds as exc:
        return _payment_required(request, job, str(exc))
    except MoneyError as exc:
        return _error(400, str(exc))
    result = delivery.bought_answer(buyer=user, job=job)
    if key == "rdfxml":
        body = ox.serialize(result.triples, format=ox.RdfFormat.RDF_XML) or b""
    else:
        body, _ = delivery.render(result, key)
    response = HttpResponse(body, content_type=protocol.content_type(key))
    response["X-Query-Job"] = str(job.pk)
    response["X-Price"] = str(quote.price)
    response["Link"] = (
        f'<{request.build_absolute_uri(reverse("market:receipt", kwargs={"pk": job.pk}))}>; rel="receipt"'
    )
    return response
