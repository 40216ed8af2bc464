"""Write allsync adapters in Python, built into WebAssembly components with
componentize-py.

An adapter is a subclass of `Adapter`; the module componentize-py builds
exports it with `Adapter = export(MyAdapter)`::

    from allsync_sdk import Adapter, Config, InvalidConfig, export, info, key

    class Static(Adapter):
        @staticmethod
        def describe():
            return info("static", "0.1.0", "A fixed list", keys=[key("things", "a,b,c", required=True)], read_only=True)

        def __init__(self, config: Config):
            self.things = config.list("things")

        def get(self):
            return self.things

    Adapter = export(Static)

Raise `InvalidConfig`, `Unauthorized`, `NotFound`, `RateLimited`,
`Unsupported` or `Other` for a whole call that fails; return `rejected(...)`
items from `add`/`remove` for things that could not be applied. `request`
sends HTTP through wasi:http, where the host allows it.
"""

import json as jsonlib
import traceback
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from componentize_py_types import Err, Ok
from wit_world.imports import allsync_adapter_types as types
from wit_world.imports import outgoing_handler, streams
from wit_world.imports import wasi_http_types as http


class Error(Exception):
    """A whole call failed; subclasses name the WIT `error` variant."""

    def variant(self) -> Any:
        return types.Error_Other(str(self))


class InvalidConfig(Error):
    def variant(self) -> Any:
        return types.Error_InvalidConfig(str(self))


class Unauthorized(Error):
    def variant(self) -> Any:
        return types.Error_Unauthorized(str(self))


class NotFound(Error):
    def variant(self) -> Any:
        return types.Error_NotFound(str(self))


class RateLimited(Error):
    """The service asked to slow down for `seconds`."""

    def __init__(self, seconds: int):
        super().__init__(f"rate limited for {seconds} s")
        self.seconds = seconds

    def variant(self) -> Any:
        return types.Error_RateLimited(self.seconds)


class Unsupported(Error):
    def variant(self) -> Any:
        return types.Error_Unsupported(str(self))


class Other(Error):
    pass


def key(name: str, description: str, required: bool = False, secret: bool = False) -> types.ConfigKey:
    """A config key the adapter understands."""
    return types.ConfigKey(name=name, description=description, required=required, secret=secret)


def info(name: str, version: str, description: str, keys: Optional[List[types.ConfigKey]] = None,
         hosts: Optional[List[str]] = None, read_only: bool = False) -> types.Info:
    """What `describe` returns."""
    return types.Info(name=name, version=version, description=description, config=keys or [],
                      hosts=hosts or [], read_only=read_only)


def rejected(thing: str, reason: str) -> types.Rejected:
    """One thing `add` or `remove` could not apply, and why."""
    return types.Rejected(thing=thing, reason=reason)


class Config:
    """The key/value configuration from allsync.toml."""

    def __init__(self, pairs: List[Tuple[str, str]]):
        self.values: Dict[str, str] = dict(pairs)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.values.get(name, default)

    def require(self, name: str) -> str:
        value = self.values.get(name, "")
        if not value.strip():
            raise InvalidConfig(f"missing required config key `{name}`")
        return value

    def list(self, name: str) -> List[str]:
        """The comma-separated values of `name`, trimmed, empty ones left out."""
        return [item.strip() for item in self.values.get(name, "").split(",") if item.strip()]


class Adapter:
    """Base class of an adapter: override `describe`, `__init__(config)`, `get`,
    and (unless read-only) `add` and `remove`."""

    @staticmethod
    def describe() -> types.Info:
        raise NotImplementedError

    def __init__(self, config: Config):
        pass

    def get(self) -> List[str]:
        raise NotImplementedError

    def add(self, things: List[str]) -> List[types.Rejected]:
        raise Unsupported("this adapter is read-only: use it as a source")

    def remove(self, things: List[str]) -> List[types.Rejected]:
        raise Unsupported("this adapter is read-only: use it as a source")


def export(adapter_class: type) -> type:
    """The class componentize-py exports, delegating to `adapter_class`."""

    def call(method: str, *args: Any) -> Any:
        try:
            instance = Exported.instance
            if instance is None:
                raise Other("the host called the adapter before init")
            return getattr(instance, method)(*args)
        except Error as error:
            raise Err(error.variant())
        except Err:
            raise
        except Exception as error:
            detail = traceback.format_exception_only(type(error), error)[-1].strip()
            raise Err(types.Error_Other(f"{method} failed: {detail}"))

    class Exported:
        instance: Optional[Adapter] = None

        def describe(self) -> types.Info:
            return adapter_class.describe()

        def init(self, config: List[Tuple[str, str]]) -> None:
            try:
                Exported.instance = adapter_class(Config(config))
            except Error as error:
                raise Err(error.variant())
            except Exception as error:
                raise Err(types.Error_InvalidConfig(f"init failed: {error}"))

        def get(self) -> List[str]:
            return call("get")

        def add(self, things: List[str]) -> List[types.Rejected]:
            return call("add", things)

        def remove(self, things: List[str]) -> List[types.Rejected]:
            return call("remove", things)

    return Exported


class Response:
    """A whole HTTP response."""

    def __init__(self, status: int, headers: List[Tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> Optional[str]:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.body)
        except ValueError as error:
            raise Other(f"unexpected response body (HTTP {self.status}): {error}: {self.text()[:300]}")

    def success(self, what: str) -> "Response":
        """This response if 2xx, else the matching error (401/403 unauthorized,
        404 not-found, 429 rate-limited, other failures other)."""
        if 200 <= self.status < 300:
            return self
        detail = f"{what}: HTTP {self.status}: {self.text()[:300]}"
        if self.status in (401, 403):
            raise Unauthorized(detail)
        if self.status == 404:
            raise NotFound(detail)
        if self.status == 429:
            raise RateLimited(int(self.header("retry-after") or "1"))
        raise Other(detail)

    def next_link(self) -> Optional[str]:
        """The `rel="next"` URL of a `Link` header."""
        for link in (self.header("link") or "").split(","):
            target, _, params = link.partition(";")
            if 'rel="next"' in params.replace(" ", ""):
                return target.strip().strip("<>")
        return None


_METHODS = {
    "GET": http.Method_Get(), "POST": http.Method_Post(), "PUT": http.Method_Put(),
    "PATCH": http.Method_Patch(), "DELETE": http.Method_Delete(), "HEAD": http.Method_Head(),
}


def encode(value: str) -> str:
    """Percent-encodes a path segment or query value."""
    return quote(value, safe="")


def request(method: str, url: str, headers: Optional[Dict[str, str]] = None, json: Any = None,
            body: Optional[bytes] = None) -> Response:
    """Sends an HTTP request through wasi:http and reads the whole response.
    `json` is sent as a JSON body. Fails with `Other` when no response came
    (refused by the host, DNS, connection)."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest:
        raise InvalidConfig(f"`{url}` is not an http:// or https:// URL")
    split = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    authority, path = rest[:split], rest[split:] or "/"
    if path.startswith("?"):
        path = "/" + path
    headers = dict(headers or {})
    headers.setdefault("user-agent", "allsync-adapter")
    if json is not None:
        body = jsonlib.dumps(json).encode()
        headers.setdefault("content-type", "application/json")
    fields = http.Fields.from_list([(name.lower(), value.encode()) for name, value in headers.items()])
    outgoing = http.OutgoingRequest(fields)
    outgoing.set_method(_METHODS[method.upper()])
    outgoing.set_scheme(http.Scheme_Https() if scheme == "https" else http.Scheme_Http())
    outgoing.set_authority(authority)
    outgoing.set_path_with_query(path)
    outgoing_body = outgoing.body()
    try:
        pending = outgoing_handler.handle(outgoing, None)
        if body:
            stream = outgoing_body.write()
            for start in range(0, len(body), 4096):
                stream.blocking_write_and_flush(body[start:start + 4096])
            stream.__exit__(None, None, None)
        http.OutgoingBody.finish(outgoing_body, None)
        while (answer := pending.get()) is None:
            pending.subscribe().block()
    except Err as error:
        raise Other(f"{method} {url}: {_explain(error.value)}")
    if isinstance(answer, Err) or isinstance(answer.value, Err):
        failure = answer.value if isinstance(answer, Err) else answer.value.value
        raise Other(f"{method} {url}: {_explain(failure)}")
    return _read(answer.value.value)


def _read(incoming: http.IncomingResponse) -> Response:
    headers = [(name, value.decode("utf-8", "replace")) for name, value in incoming.headers().entries()]
    status = incoming.status()
    incoming_body = incoming.consume()
    stream = incoming_body.stream()
    chunks = []
    while True:
        try:
            chunks.append(stream.blocking_read(65536))
        except Err as error:
            if isinstance(error.value, streams.StreamError_Closed):
                break
            raise Other(f"response body broke off: {error.value}")
    stream.__exit__(None, None, None)
    http.IncomingBody.finish(incoming_body)
    return Response(status, headers, b"".join(chunks))


def _explain(error: Any) -> str:
    if isinstance(error, http.ErrorCode_HttpRequestDenied):
        return "refused by the allsync host (it says why next to this error)"
    return type(error).__name__.replace("ErrorCode_", "")
