"""Unit tests of allsync_sdk's plain-Python parts (`Outcome`, and how
`Response` reads rate limits), run natively:

    python3 -m unittest discover -s sdk/python

The componentize-py bindings exist only inside a component, so stand-ins
take their place here.
"""

import sys
import time
import unittest
from dataclasses import dataclass
from email.utils import formatdate
from types import ModuleType
from unittest import mock


@dataclass
class Rejected:
    """Stands in for the bindings' `rejected` record."""

    thing: str
    reason: str


def stand_in_for_bindings() -> None:
    """Registers modules named as componentize-py's bindings, so that
    allsync_sdk imports outside a component."""
    runtime = ModuleType("componentize_py_types")
    runtime.Err = type("Err", (Exception,), {})
    runtime.Ok = type("Ok", (), {})
    imports = mock.MagicMock(name="wit_world.imports")
    imports.allsync_adapter_types.Rejected = Rejected
    sys.modules.update({"componentize_py_types": runtime, "wit_world": mock.MagicMock(),
                        "wit_world.imports": imports})


stand_in_for_bindings()

from allsync_sdk import (NotFound, Other, Outcome, RateLimited, Response,  # noqa: E402
                         Unauthorized)


def reasons(rejections):
    return [(r.thing, r.reason) for r in rejections]


class OutcomeTest(unittest.TestCase):
    def test_a_failure_part_way_rejects_what_was_not_applied_with_the_failure(self):
        outcome = Outcome()
        outcome.record("ann@x.com", lambda: None)
        outcome.reject("bob@x.com", "no such user")
        outcome.record("cy@x.com", lambda: Response(500, [], b"down").success("add a member"))
        outcome.failed(["dan@x.com"], Other("HTTP 500"))
        self.assertTrue(outcome.has_failed)
        self.assertEqual(reasons(outcome.finish()), [
            ("bob@x.com", "no such user"),
            ("cy@x.com", "not applied: add a member: HTTP 500: down"),
            ("dan@x.com", "not applied: HTTP 500"),
        ])

    def test_a_failure_before_anything_was_applied_fails_the_call(self):
        outcome = Outcome()
        outcome.reject("bob@x.com", "no such user")
        outcome.failed(["ann@x.com"], Unauthorized("bad token"))
        outcome.failed(["cy@x.com"], Other("later"))
        with self.assertRaisesRegex(Unauthorized, "^bad token$"):
            outcome.finish()

    def test_rejections_alone_are_not_a_failure(self):
        outcome = Outcome()
        outcome.reject("bob@x.com", "no such user")
        self.assertFalse(outcome.has_failed)
        self.assertEqual(len(outcome.finish()), 1)

    def test_reasons_name_the_kind_of_failure(self):
        outcome = Outcome()
        outcome.applied()
        outcome.failed(["ann@x.com"], NotFound("no team `devs`"))
        outcome.failed(["bob@x.com"], RateLimited(30))
        outcome.record("cy@x.com", lambda: {}["id"])
        self.assertEqual(reasons(outcome.finish()), [
            ("ann@x.com", "not applied: not found: no team `devs`"),
            ("bob@x.com", "not applied: rate limited: the service asks to retry in 30 s"),
            ("cy@x.com", "not applied: KeyError: 'id'"),
        ])


def answer(status, **headers):
    """A response with `headers` (underscores for dashes)."""
    return Response(status, [(name.replace("_", "-"), value) for name, value in headers.items()], b"{}")


class RateLimitTest(unittest.TestCase):
    def test_rate_limits_are_told_apart_from_refusals(self):
        self.assertEqual(answer(429, retry_after="7").rate_limited(), 7)
        self.assertEqual(answer(429).rate_limited(), 1)
        self.assertEqual(answer(403, Retry_After="30").rate_limited(), 30)
        self.assertEqual(answer(403, x_ratelimit_remaining="0").rate_limited(), 60)
        reset = answer(429, x_ratelimit_remaining="0", x_ratelimit_reset="2.5")
        self.assertEqual(reset.rate_limited(), 3)
        self.assertIsNone(answer(403).rate_limited())
        self.assertIsNone(answer(500, retry_after="5").rate_limited())

    def test_success_raises_a_rate_limit_before_a_refusal(self):
        with self.assertRaises(Unauthorized):
            answer(403).success("read")
        with self.assertRaises(RateLimited) as raised:
            answer(403, retry_after="5").success("read")
        self.assertEqual(raised.exception.seconds, 5)

    def test_retry_after_may_be_an_http_date(self):
        in_a_minute = formatdate(time.time() + 60, usegmt=True)
        self.assertIn(answer(429, retry_after=in_a_minute).retry_after(), range(59, 62))
        past = answer(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
        self.assertEqual(past.retry_after(), 0)
        self.assertIsNone(answer(429, retry_after="soon").retry_after())

    def test_a_ratelimit_reset_may_be_a_unix_time(self):
        in_two_minutes = str(int(time.time()) + 120)
        exhausted = answer(403, x_ratelimit_remaining="0", x_ratelimit_reset=in_two_minutes)
        self.assertIn(exhausted.rate_limited(), range(118, 122))
        not_exhausted = answer(403, x_ratelimit_remaining="10", x_ratelimit_reset=in_two_minutes)
        self.assertIsNone(not_exhausted.rate_limited())


if __name__ == "__main__":
    unittest.main()
