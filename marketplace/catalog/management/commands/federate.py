"""`manage.py federate`: evaluate a SPARQL query over the merge of SPARQL endpoints (see DESIGN.md)."""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "federate --endpoint URL [--endpoint URL ...] [--format json|xml|csv|tsv|ntriples] [--provenance] "
        "[--partial] QUERY_FILE: the query's answer over the RDF merge of the endpoints' default graphs."
    )

    def run_from_argv(self, argv):
        # The engine's own CLI parses the arguments, so the command and `python -m sparql` behave alike.
        from sparql.cli import main

        sys.exit(main(argv[2:], sys.stdout, sys.stderr))

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv does the work
        raise NotImplementedError
