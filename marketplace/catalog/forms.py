from django import forms
from django.conf import settings

from .models import Dataset
from .services import formats


class DatasetForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. products, offers")

    class Meta:
        model = Dataset
        fields = ("title", "description", "licence", "kind", "endpoint_url", "endpoint_username", "endpoint_password")
        widgets = {
            "endpoint_password": forms.PasswordInput(render_value=True),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {"endpoint_url": "Only for remote datasets: the URL of your SPARQL endpoint."}

    def clean(self):
        data = super().clean()
        if data.get("kind") == Dataset.Kind.REMOTE and not data.get("endpoint_url"):
            self.add_error("endpoint_url", "A remote dataset needs the URL of its SPARQL endpoint.")
        return data

    def tag_list(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="Turtle, N-Triples, N-Quads, TriG, RDF/XML or JSON-LD, optionally gzip-compressed. "
        "The upload replaces the dataset's data once it has loaded completely; named graphs (N-Quads, TriG, "
        "JSON-LD) merge into the dataset's one default graph, which is what buyers query."
    )
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Detect from the file name")] + [(f.key, f.label) for f in formats.FORMATS],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.RDF_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than the limit of {settings.RDF_UPLOAD_MAX_BYTES:,} bytes."
            )
        return upload

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            try:
                formats.detect(upload.name, data.get("format") or None)
            except formats.UnsupportedFormat as exc:
                self.add_error("file", str(exc))
        return data
