"""A job's datasets become a list of pks on its row, written with the job's end (one statement fewer per ask)."""

from django.db import migrations, models


def copy_datasets(apps, schema_editor):
    QueryJob = apps.get_model("market", "QueryJob")
    through = QueryJob.datasets.through
    by_job: dict = {}
    for job_id, dataset_id in through.objects.order_by("dataset_id").values_list("queryjob_id", "dataset_id").iterator():
        by_job.setdefault(job_id, []).append(dataset_id)
    for job_id, dataset_ids in by_job.items():
        QueryJob.objects.filter(pk=job_id).update(dataset_ids=dataset_ids)


def copy_back(apps, schema_editor):
    QueryJob = apps.get_model("market", "QueryJob")
    Dataset = apps.get_model("catalog", "Dataset")
    through = QueryJob.datasets.through
    existing = set(Dataset.objects.values_list("pk", flat=True))
    rows = [
        through(queryjob_id=job_id, dataset_id=pk)
        for job_id, dataset_ids in QueryJob.objects.values_list("pk", "dataset_ids").iterator()
        for pk in dataset_ids or []
        if pk in existing
    ]
    through.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0003_queryjob_buyer_recent"),
    ]

    operations = [
        migrations.AddField(
            model_name="queryjob",
            name="dataset_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(copy_datasets, copy_back),
        migrations.RemoveField(
            model_name="queryjob",
            name="datasets",
        ),
    ]
