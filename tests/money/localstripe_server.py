"""Run localstripe on loopback with its pickle file relocated: `python localstripe_server.py PORT STORE_PATH`."""

import pickle
import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def main() -> None:
    port, store_path = int(sys.argv[1]), sys.argv[2]

    def dump_to_disk(self) -> None:
        # localstripe writes /tmp/localstripe.pickle on every change; parallel runs must not share it.
        with open(store_path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
