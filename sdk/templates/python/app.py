"""The `{{name}}` allsync adapter.

It starts as a read-only source of the things listed in its `things` config
key: replace `get` with a call to your service (see `request` in
allsync_sdk.py), and add `add` and `remove` (dropping `read_only=True`) to
make it a destination.
"""

from allsync_sdk import Adapter, Config, export, info, key


class Template(Adapter):
    @staticmethod
    def describe():
        return info(
            "{{name}}", "0.1.0", "TODO: what this adapter syncs",
            keys=[key("things", "comma-separated things to return", required=True)],
            read_only=True,
        )

    def __init__(self, config: Config):
        config.require("things")
        self.things = config.list("things")

    def get(self):
        return self.things


Adapter = export(Template)
