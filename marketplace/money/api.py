"""REST API of the money app: wallet, top-ups, statement, purchases, publisher earnings, payouts, refunds."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for, organisations_of

from . import selectors
from .currency import currency_code, currency_exponent
from .models import Payout, Purchase, Refund, TopUp
from .modes import test_payments_active
from .services import (
    earnings_for,
    payout_request,
    purchase_refund,
    topup_refund,
    topup_start,
    wallet_balance,
)


class WalletSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    exponent = serializers.IntegerField()
    test_payments = serializers.BooleanField()


class WalletViewSet(viewsets.ViewSet):
    """The signed-in user's wallet."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=WalletSerializer)
    def list(self, request):
        data = {
            "balance": wallet_balance(user=request.user),
            "currency": currency_code(),
            "exponent": currency_exponent(),
            "test_payments": test_payments_active(),
        }
        return Response(WalletSerializer(data).data)


class StatementRowSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.IntegerField()
    balance = serializers.IntegerField()
    entry_id = serializers.IntegerField()
    purchase_id = serializers.IntegerField(allow_null=True)


class StatementViewSet(viewsets.ViewSet):
    """The wallet's movements, newest first, with the running balance after each."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=StatementRowSerializer(many=True))
    def list(self, request):
        rows = selectors.wallet_statement(user=request.user)
        return Response(StatementRowSerializer(rows, many=True).data)


class TopUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = TopUp
        fields = (
            "id",
            "amount",
            "currency",
            "provider",
            "status",
            "payment_intent_id",
            "client_secret",
            "failure_message",
            "created_at",
            "completed_at",
        )
        read_only_fields = (
            "currency",
            "provider",
            "status",
            "payment_intent_id",
            "client_secret",
            "failure_message",
            "created_at",
            "completed_at",
        )

    def validate_amount(self, value: int) -> int:
        if not settings.MONEY_TOPUP_MIN <= value <= settings.MONEY_TOPUP_MAX:
            raise serializers.ValidationError(
                f"Between {settings.MONEY_TOPUP_MIN} and {settings.MONEY_TOPUP_MAX} minor units."
            )
        return value


class TopUpViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Top-ups: POST creates a Stripe PaymentIntent (confirm it with Stripe.js using client_secret), or in
    test-payment mode credits at once."""

    serializer_class = TopUpSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TopUp.objects.none()
        return TopUp.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = topup_start(user=self.request.user, amount=serializer.validated_data["amount"])


class PurchaseLineSerializer(serializers.Serializer):
    publisher = serializers.SerializerMethodField()
    description = serializers.CharField()
    amount = serializers.IntegerField()

    def get_publisher(self, obj) -> str | None:
        return obj.publisher.slug if obj.publisher else None


class PurchaseSerializer(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()
    refunded = serializers.SerializerMethodField()

    class Meta:
        model = Purchase
        fields = (
            "id",
            "description",
            "total",
            "fee",
            "idempotency_key",
            "entry",
            "created_at",
            "lines",
            "refunded",
        )

    def get_lines(self, obj) -> list[dict]:
        return PurchaseLineSerializer(selectors.purchase_receipt(purchase=obj), many=True).data

    def get_refunded(self, obj) -> int:
        return selectors.purchase_refunded(purchase=obj)


class PurchaseViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in user's purchases, each with its receipt lines (made by other apps through money.charge)."""

    serializer_class = PurchaseSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Purchase.objects.none()
        return Purchase.objects.filter(buyer=self.request.user)


class EarningsSerializer(serializers.Serializer):
    publisher = serializers.CharField()
    currency = serializers.CharField()
    balance = serializers.IntegerField()
    available = serializers.IntegerField()
    pending = serializers.IntegerField()
    hold_days = serializers.IntegerField()
    revenue_by_day = serializers.ListField(child=serializers.DictField())


class EarningsViewSet(viewsets.ViewSet):
    """A publisher's earnings: balance, available after the holding period, pending, revenue per day."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=EarningsSerializer,
        parameters=[
            OpenApiParameter("publisher_slug", str, OpenApiParameter.PATH, description="The publisher's slug.")
        ],
    )
    def list(self, request, publisher_slug: str):
        organisation = get_object_or_404(Organisation, slug=publisher_slug)
        if not can_publish_for(user=request.user, organisation=organisation):
            raise PermissionDenied("Only the publisher's members see its earnings.")
        earnings = earnings_for(organisation=organisation)
        data = {
            "publisher": organisation.slug,
            "currency": currency_code(),
            "balance": earnings.balance,
            "available": earnings.available,
            "pending": earnings.pending,
            "hold_days": settings.MONEY_EARNINGS_HOLD_DAYS,
            "revenue_by_day": [
                {"day": str(d), "amount": a} for d, a in selectors.revenue_by_day(organisation=organisation)
            ],
        }
        return Response(EarningsSerializer(data).data)


class PayoutSerializer(serializers.ModelSerializer):
    publisher = serializers.SlugRelatedField(
        source="organisation", slug_field="slug", queryset=Organisation.objects.all()
    )

    class Meta:
        model = Payout
        fields = (
            "id",
            "publisher",
            "amount",
            "status",
            "method",
            "transfer_id",
            "note",
            "created_at",
            "settled_at",
        )
        read_only_fields = ("status", "method", "transfer_id", "note", "created_at", "settled_at")

    def validate_amount(self, value: int) -> int:
        if value <= 0:
            raise serializers.ValidationError("A payout must be positive.")
        return value


class PayoutViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Payouts of the publishers the user belongs to; POST requests one from available earnings."""

    serializer_class = PayoutSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if self.request.user.is_staff:
            return Payout.objects.all()
        return Payout.objects.filter(organisation__in=organisations_of(user=self.request.user))

    def perform_create(self, serializer):
        organisation = serializer.validated_data["organisation"]
        if not can_publish_for(user=self.request.user, organisation=organisation):
            raise PermissionDenied("Only the publisher's members request its payouts.")
        serializer.instance = payout_request(
            organisation=organisation, amount=serializer.validated_data["amount"], by=self.request.user
        )


class RefundSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="wallet (purchase refunded to the wallet) or card.")
    amount = serializers.IntegerField(required=False, min_value=1, help_text="Minor units; default: all that is left.")

    class Meta:
        model = Refund
        fields = (
            "id",
            "kind",
            "purchase",
            "topup",
            "amount",
            "status",
            "reason",
            "provider_refund_id",
            "created_at",
        )
        read_only_fields = ("kind", "status", "provider_refund_id", "created_at")

    def validate(self, attrs):
        if bool(attrs.get("purchase")) == bool(attrs.get("topup")):
            raise serializers.ValidationError(
                "Give exactly one of purchase (refund to the wallet) or topup (refund to the card)."
            )
        return attrs


class RefundViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Operators only: refund a purchase to the wallet, or a top-up to the card."""

    serializer_class = RefundSerializer
    permission_classes = [permissions.IsAdminUser]
    queryset = Refund.objects.all()

    def perform_create(self, serializer):
        data = serializer.validated_data
        if data.get("purchase"):
            refund = purchase_refund(
                purchase=data["purchase"],
                amount=data.get("amount"),
                by=self.request.user,
                reason=data.get("reason", ""),
            )
        else:
            refund = topup_refund(
                topup=data["topup"],
                amount=data.get("amount"),
                by=self.request.user,
                reason=data.get("reason", ""),
            )
        serializer.instance = refund
