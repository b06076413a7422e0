"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from .heap import freeze_startup_heap  # noqa: E402 - after Django is set up, as it imports models

freeze_startup_heap()
