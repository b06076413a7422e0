from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import Organisation, User


class SignUpForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email")


class OrganisationApplyForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ("name", "description", "homepage")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Organisation.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A publisher with this name exists already.")
        return name


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)

    def clean_username(self):
        try:
            return User.objects.get(username=self.cleaned_data["username"])
        except User.DoesNotExist as exc:
            raise forms.ValidationError("No user with this name.") from exc
