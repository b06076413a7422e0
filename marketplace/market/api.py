"""REST API of the query market: ask, follow, cancel, buy, download; price models; subscriptions."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from marketplace.catalog.models import Dataset

from . import disclosure
from .errors import InvalidAsk
from .models import PriceModel, QueryJob
from .selectors import jobs_of, latest_quote, subscriptions_of
from .serializers import (
    RESULT_FORMATS,
    AskIn,
    JobOut,
    PriceModelIn,
    PriceModelOut,
    PurchaseIn,
    ReceiptOut,
    SubscriptionIn,
    SubscriptionOut,
)
from .services import delivery
from .services.price_models import price_model_set
from .services.purchases import quote_purchase
from .services.queries import job_cancel, job_create
from .services.sources import datasets_on_sale
from .services.subscriptions import subscription_buy


class IgnoreFormatParameter(BaseContentNegotiation):
    """The results action uses ?format= for the W3C result format, not for DRF's renderer choice."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QueryViewSet(viewsets.ViewSet):
    """Federated queries: each runs as a job, is quoted, and is delivered once bought."""

    permission_classes = [permissions.IsAuthenticated]
    lookup_value_converter = "uuid"
    queryset = QueryJob.objects.none()  # for the schema's path parameter type only

    def _job(self, request, pk) -> QueryJob:
        job = QueryJob.objects.filter(pk=pk, buyer=request.user).first()
        if job is None:
            raise Http404
        return job

    def _out(self, request, job: QueryJob) -> dict:
        return disclosure.job_public(job, latest_quote(job=job), request=request)

    @extend_schema(request=AskIn, responses={201: JobOut}, summary="Ask a query (runs as a job, then quoted)")
    def create(self, request):
        data = AskIn(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_create(buyer=request.user, via="api", **data.validated_data)
        return Response(self._out(request, job), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: JobOut(many=True)}, summary="Your queries")
    def list(self, request):
        page = self.paginator.paginate_queryset(jobs_of(buyer=request.user), request, view=self)
        return self.paginator.get_paginated_response([self._out(request, job) for job in page])

    @property
    def paginator(self):
        from rest_framework.pagination import PageNumberPagination

        if not hasattr(self, "_paginator"):
            self._paginator = PageNumberPagination()
        return self._paginator

    @extend_schema(responses={200: JobOut}, summary="A query's status, progress and quote")
    def retrieve(self, request, pk=None):
        return Response(self._out(request, self._job(request, pk)))

    @extend_schema(request=None, responses={200: JobOut}, summary="Cancel a running query")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = job_cancel(job=self._job(request, pk), by=request.user)
        return Response(self._out(request, job))

    @extend_schema(
        request=PurchaseIn,
        responses={200: ReceiptOut, 402: OpenApiResponse(description="Insufficient funds")},
        summary="Buy the quote (idempotent): charges the wallet and releases the quoted rows",
    )
    @action(detail=True, methods=["post"])
    def purchase(self, request, pk=None):
        job = self._job(request, pk)
        data = PurchaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        quote = quote_purchase(buyer=request.user, job=job, quote_id=data.validated_data["quote"])
        job.refresh_from_db()
        return Response(
            {
                "quote": disclosure.quote_public(quote),
                "purchase_id": quote.purchase_id,
                "purchased_at": quote.purchased_at,
                "results_url": request.build_absolute_uri(f"/api/queries/{job.pk}/results/"),
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=RESULT_FORMATS,
                description="json (default), xml, csv, tsv; ntriples or turtle for CONSTRUCT",
            )
        ],
        responses={
            (200, "application/sparql-results+json"): OpenApiTypes.BINARY,
            402: OpenApiResponse(description="Not bought yet"),
        },
        summary="Download the bought rows in a W3C result format",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreFormatParameter)
    def results(self, request, pk=None):
        job = self._job(request, pk)
        result = delivery.bought_answer(buyer=request.user, job=job)
        fmt = request.query_params.get("format") or delivery.formats_for(result.kind)[0]
        if fmt not in RESULT_FORMATS:
            raise InvalidAsk(f"Unknown format {fmt[:20]!r}.")
        body, content_type = delivery.render(result, fmt)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="answer-{job.pk}.{delivery.EXTENSIONS[fmt]}"'
        return response


class PriceModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Price models of the datasets on sale; a dataset's publisher sets its model with PUT."""

    serializer_class = PriceModelOut
    lookup_field = "dataset"
    lookup_value_regex = r"\d+"
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    filterset_fields = ["kind"]
    search_fields = []
    ordering_fields = ["dataset"]

    def get_queryset(self):
        return PriceModel.objects.filter(dataset__in=datasets_on_sale()).order_by("dataset_id")

    @extend_schema(
        request=PriceModelIn,
        responses={200: PriceModelOut},
        summary="Set a dataset's price model (its publisher)",
    )
    def update(self, request, dataset=None):
        target = get_object_or_404(Dataset, pk=dataset)
        data = PriceModelIn(data=request.data)
        data.is_valid(raise_exception=True)
        model = price_model_set(user=request.user, dataset=target, **data.validated_data)
        return Response(PriceModelOut(model).data)


class SubscriptionViewSet(viewsets.ViewSet):
    """Your dataset subscriptions; buying one charges your wallet."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: SubscriptionOut(many=True)}, summary="Your subscriptions")
    def list(self, request):
        return Response(SubscriptionOut(subscriptions_of(buyer=request.user), many=True).data)

    @extend_schema(request=SubscriptionIn, responses={201: SubscriptionOut}, summary="Subscribe to a dataset")
    def create(self, request):
        data = SubscriptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = get_object_or_404(datasets_on_sale(), pk=data.validated_data["dataset"])
        subscription = subscription_buy(
            buyer=request.user, dataset=dataset, idempotency_key=data.validated_data["idempotency_key"]
        )
        return Response(SubscriptionOut(subscription).data, status=status.HTTP_201_CREATED)
