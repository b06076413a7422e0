"""Demo content hooks: other apps add their part of `load_demo` (wallet credit, price models, models)."""

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

DEMO_PASSWORD = "demo-pass-2026"

# "app label": "module:function" called as function(buyer=, operator=, stdout=, make_publisher=) -> lines to print;
# make_publisher(name, username) returns an approved publisher owned by that (demo) user.
EXTENSIONS = {
    "money": "marketplace.money.demo:load_demo",
    "market": "marketplace.market.demo:load_demo",
    "modelhub": "modelhub.demo_loader:load_demo",
}


def demo_extensions() -> list[Callable]:
    found = []
    for label, target in EXTENSIONS.items():
        module, function = target.split(":")
        # An installed app without a demo module simply contributes nothing to the demo.
        if any(c.label == label for c in apps.get_app_configs()) and find_spec(module) is not None:
            found.append(getattr(import_module(module), function))
    return found
