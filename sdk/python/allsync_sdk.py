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
items from `add`/`remove` for things that could not be applied, or keep the
account in an `Outcome` when a call sends several requests. `request` sends
HTTP through wasi:http, where the host allows it.
"""

import json as jsonlib
import math
import time
import traceback
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

from componentize_py_types import Err, Ok
from wit_world.imports import allsync_adapter_types as types
from wit_world.imports import outgoing_handler, streams
from wit_world.imports import wasi_http_types as http


class Error(Exception):
    """A whole call failed; subclasses name the WIT `error` variant."""

    #: The variant's name in words, leading the `reason` (none for `other`).
    kind = ""

    def variant(self) -> Any:
        return types.Error_Other(str(self))

    def reason(self) -> str:
        """The error's text with its kind, as a rejection reason ("not found: ...")."""
        return f"{self.kind}: {self}" if self.kind else str(self)


class InvalidConfig(Error):
    kind = "invalid config"

    def variant(self) -> Any:
        return types.Error_InvalidConfig(str(self))


class Unauthorized(Error):
    kind = "unauthorized"

    def variant(self) -> Any:
        return types.Error_Unauthorized(str(self))


class NotFound(Error):
    kind = "not found"

    def variant(self) -> Any:
        return types.Error_NotFound(str(self))


class RateLimited(Error):
    """The service asked to slow down for `seconds`."""

    kind = "rate limited"

    def __init__(self, seconds: int):
        super().__init__(f"the service asks to retry in {seconds} s")
        self.seconds = seconds

    def variant(self) -> Any:
        return types.Error_RateLimited(self.seconds)


class Unsupported(Error):
    kind = "unsupported"

    def variant(self) -> Any:
        return types.Error_Unsupported(str(self))


class Other(Error):
    pass


def _as_error(error: Exception, context: str = "") -> Error:
    """`error` itself if it is an `Error`, else an `Other` naming it after `context`."""
    if isinstance(error, Error):
        return error
    detail = traceback.format_exception_only(type(error), error)[-1].strip()
    return Other(f"{context}{detail}")


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


class Outcome:
    """What one `add` or `remove` call did, thing by thing.

    The host counts as applied every thing a call was given and did not
    reject. A call that sends several requests can fail part-way: the things
    a failed request did not apply must then come back as rejections, with
    the failure as the reason, or the host would report them as done::

        outcome = Outcome()
        for email in things:
            outcome.record(email, lambda: request("PUT", member(email), headers=auth).success("add a member"))
        return outcome.finish()
    """

    def __init__(self) -> None:
        self._applied = 0
        self._rejected: List[types.Rejected] = []
        self._failure: Optional[Error] = None

    def applied(self) -> None:
        """Notes that one thing was applied."""
        self._applied += 1

    def reject(self, thing: str, reason: str) -> None:
        """Rejects one thing for a reason of its own (unknown here, refused
        for this thing only); the call goes on."""
        self._rejected.append(rejected(thing, reason))

    def failed(self, things: Iterable[str], error: Exception) -> None:
        """Notes that `things` were not applied because a request failed with
        `error` (an exception that is not an `Error` counts as `Other`)."""
        failure = _as_error(error)
        reason = f"not applied: {failure.reason()}"
        self._rejected.extend(rejected(thing, reason) for thing in things)
        if self._failure is None:
            self._failure = failure

    def record(self, thing: str, action: Callable[[], Any]) -> None:
        """Runs `action` for `thing`: applied if it returns, failed with what
        it raises if not."""
        try:
            action()
        except Exception as error:
            self.failed([thing], error)
        else:
            self.applied()

    @property
    def has_failed(self) -> bool:
        """Whether a request has failed, so the caller can stop sending more
        (passing the things not sent to `failed`)."""
        return self._failure is not None

    def finish(self) -> List[types.Rejected]:
        """The call's result: the rejections; or, when a request failed and
        nothing at all was applied, raises that first failure (so "nothing
        was done" reads as such)."""
        if self._applied == 0 and self._failure is not None:
            raise self._failure
        return self._rejected


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
        except Err:
            raise
        except Exception as error:
            raise Err(_as_error(error, f"{method} failed: ").variant())

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


#: The largest wait the WIT `rate-limited(u32)` variant holds.
_U32_MAX = 2**32 - 1
#: A reset written as a Unix time is far past any sane wait in seconds.
_UNIX_TIME_FROM = 1_000_000_000


def _seconds_until(timestamp: float) -> int:
    """Whole seconds from now until the Unix time `timestamp` (0 if it has
    passed), rounded up."""
    return min(max(0, math.ceil(timestamp - time.time())), _U32_MAX)


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
        """This response if 2xx, else the matching error: a rate limit (429,
        or 403 with `Retry-After` or an exhausted `x-ratelimit-remaining`)
        `RateLimited`, 401/403 `Unauthorized`, 404 `NotFound`, anything else
        `Other`. `what` names the operation."""
        if 200 <= self.status < 300:
            return self
        seconds = self.rate_limited()
        if seconds is not None:
            raise RateLimited(seconds)
        detail = f"{what}: HTTP {self.status}: {self.text()[:300]}"
        if self.status in (401, 403):
            raise Unauthorized(detail)
        if self.status == 404:
            raise NotFound(detail)
        raise Other(detail)

    def rate_limited(self) -> Optional[int]:
        """The seconds to wait, if this response is a rate limit: a 429 (1 s
        unless it says), or a 403 that says when to come back (`Retry-After`,
        or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), as GitHub's
        secondary and primary rate limits answer."""
        exhausted = (self.header("x-ratelimit-remaining") or "").strip() == "0"
        wait = self.retry_after()
        if wait is None and exhausted:
            wait = self._ratelimit_reset()
        if self.status == 429:
            return 1 if wait is None else wait
        if self.status == 403 and (wait is not None or exhausted):
            return 60 if wait is None else wait
        return None

    def retry_after(self) -> Optional[int]:
        """Seconds from a `Retry-After` header, in either of its forms: a
        number of seconds, or an HTTP date (counted from now)."""
        value = (self.header("retry-after") or "").strip()
        if value.isascii() and value.isdigit():
            return min(int(value), _U32_MAX)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return _seconds_until(when.timestamp())

    def _ratelimit_reset(self) -> Optional[int]:
        """Seconds until `x-ratelimit-reset`: Unix time (GitHub), or seconds
        from now (Terraform Cloud, which may send a fraction)."""
        try:
            value = float(self.header("x-ratelimit-reset") or "")
        except ValueError:
            return None
        if not math.isfinite(value) or value < 0:
            return None
        if value >= _UNIX_TIME_FROM:
            return _seconds_until(int(value))
        return math.ceil(value)

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
