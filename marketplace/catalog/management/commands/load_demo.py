"""`manage.py load_demo`: a deterministic demo marketplace — an operator, a buyer, FedShop-like publishers
whose hosted datasets share product IRIs, and whatever demo content the other apps provide."""

import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from marketplace.accounts.models import Membership, Organisation, User
from marketplace.accounts.services import organisation_approve
from marketplace.catalog.demo import DEMO_PASSWORD, demo_extensions
from marketplace.catalog.models import Dataset, IngestJob
from marketplace.catalog.services.datasets import dataset_create
from marketplace.catalog.services.ingest import ingest_run
from marketplace.demo.fedshop import DEMO_SCALE, generate

DESCRIPTIONS = {
    "catalog": ("BSBM Product Catalog", "Products, product types, features and producers.", ["products", "catalog"]),
    "vendor": (
        "{name} offers",
        "Offers with prices, delivery days and validity for the products this vendor sells.",
        ["offers", "prices"],
    ),
    "ratingsite": (
        "{name} reviews",
        "Reviews with ratings and reviewers for the products this site covers.",
        ["reviews", "ratings"],
    ),
}


class Command(BaseCommand):
    help = "Create the demo marketplace (deterministic; safe to run again)."

    def handle(self, *args, **options):
        operator = self._user("operator", is_staff=True, is_superuser=True)
        buyer = self._user("buyer")
        with tempfile.TemporaryDirectory() as tmp:
            sources = generate(tmp, seed=0, **DEMO_SCALE)
            for source in sources:
                self._publish(source, operator)
        lines = [
            "Demo marketplace ready. Sign in at http://127.0.0.1:8000/login/ with:",
            f"  operator (staff, /admin/): operator / {DEMO_PASSWORD}",
            f"  buyer:                     buyer / {DEMO_PASSWORD}",
            f"  publishers:                catalog, vendor0, ratingsite0, ... / {DEMO_PASSWORD}",
        ]
        for extension in demo_extensions():
            lines += extension(buyer=buyer, operator=operator, stdout=self.stdout, make_publisher=self._publisher) or []
        self.stdout.write("\n".join(lines))

    def _user(self, username: str, **flags) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.example", **flags}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    @transaction.atomic
    def _organisation(self, name: str, owner: User, operator: User) -> Organisation:
        organisation, _ = Organisation.objects.get_or_create(
            name=name, defaults={"description": f"Demo publisher {name}."}
        )
        Membership.objects.get_or_create(
            organisation=organisation, user=owner, defaults={"role": Membership.Role.OWNER}
        )
        if not organisation.is_approved:
            organisation_approve(organisation=organisation, by=operator)
        return organisation

    def _publisher(self, name: str, username: str) -> Organisation:
        operator = User.objects.get(username="operator")
        return self._organisation(name, self._user(username), operator)

    def _publish(self, source, operator: User) -> None:
        title, description, tags = DESCRIPTIONS[source.kind]
        pretty = source.name.replace("vendor", "Vendor ").replace("ratingsite", "Rating site ")
        organisation = self._organisation(
            "BSBM Catalog" if source.kind == "catalog" else pretty, self._user(source.name), operator
        )
        title = title.format(name=pretty)
        dataset = Dataset.objects.filter(publisher=organisation, title=title).first()
        if dataset is None:
            dataset = dataset_create(
                publisher=organisation,
                title=title,
                kind=Dataset.Kind.HOSTED,
                description=description,
                licence="CC-BY-4.0",
                tags=tags,
            )
        if dataset.status != Dataset.Status.APPROVED:
            dataset.status = Dataset.Status.APPROVED
            dataset.save(update_fields=["status"])
        if dataset.store_path is None or not Path(dataset.store_path).exists():
            self._load(dataset, Path(source.path))
        self.stdout.write(f"  {organisation.name}: {dataset.title} ({source.triples} triples)")

    def _load(self, dataset: Dataset, path: Path) -> None:
        from django.conf import settings

        upload_dir = Path(settings.UPLOAD_TMP_ROOT) / "ingest"
        upload_dir.mkdir(parents=True, exist_ok=True)
        target = upload_dir / f"demo-{dataset.pk}.nt"
        shutil.copyfile(path, target)
        job = IngestJob.objects.create(
            dataset=dataset,
            original_name=path.name,
            format="ntriples",
            upload_path=str(target),
            size_bytes=target.stat().st_size,
        )
        job = ingest_run(job_id=job.pk)  # in-process, so the demo is complete when the command returns
        if job.status != IngestJob.Status.SUCCEEDED:
            raise RuntimeError(f"Demo data failed to load: {job.error}")
