"""The `http-json` adapter: a source that reads a list out of JSON served
over HTTP, following pages.

`path` picks the things out of each page: dots walk into objects, `[]`
walks into every element of a list; `data[].email` takes the `email` of
every element of `data`. Pages are followed through the JSON field named by
`next` (a URL), or else a `Link: <...>; rel="next"` header.
"""

from typing import Any, List

from allsync_sdk import Adapter, Config, InvalidConfig, Other, export, info, key, request


def pick(document: Any, path: str) -> List[str]:
    """The strings at `path` in `document`."""
    values = [document]
    for step in filter(None, path.split(".")):
        each = step.endswith("[]")
        name = step[:-2] if each else step
        found = []
        for value in values:
            if name:
                value = value.get(name) if isinstance(value, dict) else None
            if each:
                found.extend(value if isinstance(value, list) else [])
            elif value is not None:
                found.append(value)
        values = found
    strings = [value.strip() for value in values if isinstance(value, str) and value.strip()]
    if len(strings) != len(values):
        raise Other(f"`{path}` picks values that are not strings, or empty ones")
    return strings


class HttpJson(Adapter):
    @staticmethod
    def describe():
        return info(
            "http-json", "0.1.0",
            "A list picked out of JSON served over HTTP, following next links (a source)",
            keys=[
                key("url", "the first page", required=True),
                key("path", "where the things are, e.g. data[].email (default: the document is a list)"),
                key("next", "the field holding the next page's URL, e.g. links.next (default: the Link header)"),
                key("token", "a bearer token, if the server wants one", secret=True),
            ],
            read_only=True,
        )

    def __init__(self, config: Config):
        self.url = config.require("url")
        if not self.url.startswith(("http://", "https://")):
            raise InvalidConfig(f"url `{self.url}` is not an http:// or https:// URL")
        self.path = config.get("path", "[]")
        self.next = config.get("next")
        self.token = config.get("token")

    def get(self):
        headers = {"accept": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        things, url, seen = [], self.url, set()
        while url:
            if url in seen:
                raise Other(f"the pages loop back to {url}")
            seen.add(url)
            response = request("GET", url, headers=headers).success("fetch a page")
            document = response.json()
            things.extend(pick(document, self.path))
            url = self.next_url(document, response)
        return things

    def next_url(self, document, response):
        if not self.next:
            return response.next_link()
        found = pick(document, self.next)
        return found[0] if found else None


Adapter = export(HttpJson)
