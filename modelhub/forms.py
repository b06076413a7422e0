"""Forms of the hub's pages: browse filters, models, variants with their metadata, uploads, compression jobs."""

from django import forms

from marketplace.accounts.models import Organisation

from .models import Granularity, HubModel, Method, Task, Variant
from .selectors import VariantFilters


class FilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    task = forms.ChoiceField(required=False, choices=[("", "any task"), *Task.choices])
    method = forms.ChoiceField(required=False, choices=[("", "any method"), *Method.choices])
    bits = forms.IntegerField(required=False, min_value=1, max_value=64, label="Weight bits ≤")
    max_size_mb = forms.FloatField(required=False, min_value=0, label="Size ≤ (MB)")
    min_accuracy = forms.FloatField(required=False, min_value=0, max_value=100, label="Accuracy ≥ (%)")
    licence = forms.CharField(required=False, max_length=64)
    max_price = forms.IntegerField(required=False, min_value=0, label="Price ≤ (minor units)")
    free = forms.BooleanField(required=False, label="Free only")

    def filters(self) -> VariantFilters:
        if not self.is_valid():
            return VariantFilters()
        d = self.cleaned_data
        return VariantFilters(
            task=d["task"],
            method=d["method"],
            bits=d["bits"],
            max_size=int(d["max_size_mb"] * 1024 * 1024) if d["max_size_mb"] is not None else None,
            min_accuracy=d["min_accuracy"] / 100 if d["min_accuracy"] is not None else None,
            licence=d["licence"],
            max_price=d["max_price"],
            free=d["free"],
            q=d["q"],
        )


class ModelForm(forms.ModelForm):
    publisher = forms.ModelChoiceField(queryset=Organisation.objects.none())

    class Meta:
        model = HubModel
        fields = ("publisher", "name", "task", "licence", "price", "card")
        widgets = {"card": forms.Textarea(attrs={"rows": 14})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["licence"].required = False
        self.fields["publisher"].queryset = (
            Organisation.objects.filter(status=Organisation.Status.APPROVED)
            if user is not None and user.is_staff
            else user.publisher_organisations()
        )
        if self.instance.pk:
            del self.fields["publisher"]


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = (
            "name",
            "derived_from",
            "price",
            "published",
            "method",
            "weight_bits",
            "activation_bits",
            "granularity",
            "symmetric",
            "calibration_method",
            "calibration_samples",
            "codebook_size",
            "sparsity",
            "teacher",
            "size_bytes",
            "parameter_count",
            "accuracy",
            "reference_accuracy",
            "evaluation_set",
            "latency_ms",
            "memory_bytes",
            "hardware",
        )
        widgets = {"symmetric": forms.NullBooleanSelect()}

    def __init__(self, *args, model: HubModel, **kwargs):
        super().__init__(*args, **kwargs)
        others = model.variants.all()
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["derived_from"].queryset = others
        self.fields["granularity"].choices = [("", "—"), *Granularity.choices]
        self.model_obj = model

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = Variant.objects.filter(model=self.model_obj, name=name).exclude(pk=self.instance.pk or 0)
        if clash.exists():
            raise forms.ValidationError("The model already has a variant with this name.")
        return name

    def clean_sparsity(self):
        value = self.cleaned_data.get("sparsity")
        if value is not None and not 0 <= value <= 1:
            raise forms.ValidationError("A fraction between 0 and 1.")
        return value

    def metadata(self) -> dict:
        keep = set(self.Meta.fields) - {"name", "derived_from", "price", "published"}
        return {k: v for k, v in self.cleaned_data.items() if k in keep}


class UploadForm(forms.Form):
    file = forms.FileField(help_text="ONNX, safetensors, GGUF, TFLite or a PyTorch state dict.")


METHOD_CHOICES = [
    ("static_int8", "static int8 (calibrated on one batch)"),
    ("dynamic_int8", "dynamic int8"),
    ("kmeans", "4-bit k-means weight sharing"),
    ("dynamic_fixed_point", "dynamic fixed point"),
    ("pruning", "50% magnitude pruning"),
]


class CompressForm(forms.Form):
    eval_set = forms.FileField(help_text=".npz with arrays `inputs` and `labels`")
    eval_name = forms.CharField(max_length=200, required=False)
    methods = forms.MultipleChoiceField(
        choices=METHOD_CHOICES, widget=forms.CheckboxSelectMultiple, initial=["static_int8", "kmeans"]
    )

    def method_specs(self) -> list[dict]:
        options = {"kmeans": {"bits": 4}, "pruning": {"sparsity": 0.5}}
        return [{"method": m, "options": options.get(m, {})} for m in self.cleaned_data["methods"]]
