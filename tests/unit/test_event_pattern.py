"""EventBridge event-pattern matcher: AWS's documented examples, our rules' edge cases, and refusals.

Documented examples are paraphrased from the EventBridge user guide pages cited above each test (values the
example depends on are kept; identifiers are our own).
"""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

import pytest

from container_manager.matching.event_pattern import EventPattern, EventPatternError, matches

Event = dict[str, Any]


def ec2_state_event(state: Any = "terminated", **detail: Any) -> Event:
    return {
        "version": "0",
        "id": "0b5f5b2e-3b6e-4f0e-9a51-2f7d5c1e9a10",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:111122223333:instance/i-0abc1234def567890"],
        "detail": {"instance-id": "i-0abc1234def567890", "state": state, **detail},
    }


def with_detail(**detail: Any) -> Event:
    return {"source": "aws.test", "detail": detail}


# ---------------------------------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html


class TestDocumentedBasics:
    def test_ec2_termination_pattern_matches_terminated_and_not_running(self) -> None:
        # Given the guide's "all EC2 instance-termination events" pattern
        pattern = EventPattern(
            {
                "source": ["aws.ec2"],
                "detail-type": ["EC2 Instance State-change Notification"],
                "detail": {"state": ["terminated"]},
            }
        )
        # When / Then: the documented terminated event matches, the same event in another state does not
        assert pattern.matches(ec2_state_event("terminated"))
        assert not pattern.matches(ec2_state_event("running"))

    def test_list_of_values_is_or(self) -> None:
        # Given the guide's {"source": ["aws.ec2", "aws.fargate"]}
        pattern = EventPattern({"source": ["aws.ec2", "aws.fargate"]})
        # Then either source matches, a third does not
        assert pattern.matches({"source": "aws.ec2"})
        assert pattern.matches({"source": "aws.fargate"})
        assert not pattern.matches({"source": "aws.ecs"})

    def test_nested_numbers_macie_example(self) -> None:
        # Given the guide's Macie alert pattern: risk-score 80 and trigger.risk 8
        pattern = EventPattern(
            {
                "source": ["aws.macie"],
                "detail-type": ["Macie Alert"],
                "detail": {"risk-score": [80], "trigger": {"risk": [8]}},
            }
        )
        alert: Event = {
            "source": "aws.macie",
            "detail-type": "Macie Alert",
            "detail": {
                "notification-type": "ALERT_CREATED",
                "tags": ["Custom_Alert", "Insider"],
                "risk-score": 80,
                "trigger": {"alert-type": "basic", "risk": 8},
            },
        }
        assert pattern.matches(alert)
        # When the nested value differs, Then no match
        lower = copy.deepcopy(alert)
        lower["detail"]["trigger"]["risk"] = 7
        assert not pattern.matches(lower)

    def test_every_pattern_field_must_exist_in_the_event(self) -> None:
        pattern = EventPattern({"source": ["aws.ec2"], "detail": {"state": ["terminated"]}})
        event = ec2_state_event()
        del event["detail"]["state"]
        assert not pattern.matches(event)

    def test_strings_match_exactly_without_case_folding(self) -> None:
        pattern = EventPattern({"detail": {"state": ["terminated"]}})
        assert not pattern.matches(ec2_state_event("Terminated"))
        assert not pattern.matches(ec2_state_event("terminated "))

    def test_exact_numbers_keep_their_json_type(self) -> None:
        # The guide: "300, 300.0, and 3.0e2 are not considered equal" for exact matching
        pattern = EventPattern({"detail": {"x": [300]}})
        assert pattern.matches(with_detail(x=300))
        assert not pattern.matches(with_detail(x=300.0))
        assert not pattern.matches(with_detail(x="300"))


# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
class TestDocumentedNullAndEmptyString:
    launch: ClassVar[Event] = {
        "source": "aws.autoscaling",
        "detail-type": "EC2 Instance Launch Successful",
        "detail": {"eventVersion": "", "responseElements": None},
    }

    def test_empty_string_pattern_matches_empty_string(self) -> None:
        assert matches({"detail": {"eventVersion": [""]}}, self.launch)

    def test_null_pattern_matches_null(self) -> None:
        assert matches({"detail": {"responseElements": [None]}}, self.launch)

    def test_null_and_empty_string_are_not_interchangeable(self) -> None:
        assert not matches({"detail": {"eventVersion": [None]}}, self.launch)
        assert not matches({"detail": {"responseElements": [""]}}, self.launch)

    def test_null_pattern_does_not_match_a_missing_field(self) -> None:
        assert not matches({"detail": {"somethingElse": [None]}}, self.launch)


# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
class TestDocumentedArrays:
    def test_pattern_array_matches_when_intersection_with_event_array_is_non_empty(self) -> None:
        # Given the guide's three instance ARNs in the pattern and a two-ARN resources array in the event
        pattern = EventPattern(
            {
                "resources": [
                    "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                    "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
                    "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
                ]
            }
        )
        asg = (
            "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025"
            ":autoScalingGroupName/ASGTerminate"
        )
        # Then the first pattern value equals the event's second element: match
        assert pattern.matches({"resources": [asg, "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]})
        # And with no common element: no match
        assert not pattern.matches({"resources": [asg]})
        assert not pattern.matches({"resources": []})


# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
# (now https://docs.aws.amazon.com/eventbridge/latest/userguide/content-filtering-with-event-patterns.html and
#  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)
class TestDocumentedContentFiltering:
    def test_prefix(self) -> None:
        pattern = EventPattern({"time": [{"prefix": "2017-10-02"}]})
        assert pattern.matches({"time": "2017-10-02T18:43:48Z"})
        assert not pattern.matches({"time": "2017-10-03T18:43:48Z"})
        assert not pattern.matches({"time": "x2017-10-02"})

    def test_prefix_ignoring_case(self) -> None:
        pattern = EventPattern({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}})
        assert pattern.matches(with_detail(service="EventBridge"))
        assert pattern.matches(with_detail(service="eventbridge"))
        assert pattern.matches(with_detail(service="EVENTBUS"))
        assert not pattern.matches(with_detail(service="Lambda"))

    def test_suffix(self) -> None:
        pattern = EventPattern({"FileName": [{"suffix": ".png"}]})
        assert pattern.matches({"FileName": "image.png"})
        assert not pattern.matches({"FileName": "image.PNG"})
        assert not pattern.matches({"FileName": "image.png.txt"})

    def test_suffix_ignoring_case(self) -> None:
        pattern = EventPattern({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}})
        assert pattern.matches(with_detail(FileName="image.PNG"))
        assert not pattern.matches(with_detail(FileName="image.jpg"))

    def test_equals_ignore_case(self) -> None:
        pattern = EventPattern(
            {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}
        )
        assert pattern.matches(ec2_state_event())
        assert not pattern.matches({"detail-type": "EC2 Instance State-change Notifications"})

    def test_anything_but_string(self) -> None:
        pattern = EventPattern({"detail": {"state": [{"anything-but": "initializing"}]}})
        assert pattern.matches(with_detail(state="running"))
        assert not pattern.matches(with_detail(state="initializing"))

    def test_anything_but_number(self) -> None:
        pattern = EventPattern({"detail": {"x-limit": [{"anything-but": 123}]}})
        assert pattern.matches(with_detail(**{"x-limit": 124}))
        assert not pattern.matches(with_detail(**{"x-limit": 123}))

    def test_anything_but_list_of_strings(self) -> None:
        pattern = EventPattern({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}})
        assert pattern.matches(with_detail(state="running"))
        assert not pattern.matches(with_detail(state="stopped"))
        assert not pattern.matches(with_detail(state="overloaded"))

    def test_anything_but_list_of_numbers(self) -> None:
        pattern = EventPattern({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}})
        assert pattern.matches(with_detail(**{"x-limit": 150}))
        assert not pattern.matches(with_detail(**{"x-limit": 200}))

    def test_anything_but_prefix(self) -> None:
        pattern = EventPattern({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}})
        assert pattern.matches(with_detail(state="running"))
        assert not pattern.matches(with_detail(state="initializing"))

    def test_anything_but_suffix(self) -> None:
        pattern = EventPattern({"FileName": [{"anything-but": {"suffix": ".png"}}]})
        assert pattern.matches({"FileName": "notes.txt"})
        assert not pattern.matches({"FileName": "image.png"})

    def test_anything_but_ignoring_case(self) -> None:
        pattern = EventPattern({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]})
        assert pattern.matches({"state": "running"})
        assert not pattern.matches({"state": "INITIALIZING"})
        listed = EventPattern(
            {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OVERLOADED"]}}]}
        )
        assert not listed.matches({"state": "overloaded"})
        assert listed.matches({"state": "running"})

    def test_numeric_ranges_all_fields_must_hold(self) -> None:
        # Given the guide's pattern: 0 < c-count <= 5, d-count < 10, x-limit = 3.018e2
        pattern = EventPattern(
            {
                "detail": {
                    "c-count": [{"numeric": [">", 0, "<=", 5]}],
                    "d-count": [{"numeric": ["<", 10]}],
                    "x-limit": [{"numeric": ["=", 3.018e2]}],
                }
            }
        )
        good = {"c-count": 5, "d-count": 9.5, "x-limit": 301.8}
        assert pattern.matches(with_detail(**good))
        # Then numeric compares by value (301.8 == 3.018e2, 5 <= 5), and each bound is enforced
        assert not pattern.matches(with_detail(**{**good, "c-count": 0}))
        assert not pattern.matches(with_detail(**{**good, "c-count": 5.000001}))
        assert not pattern.matches(with_detail(**{**good, "d-count": 10}))
        assert not pattern.matches(with_detail(**{**good, "x-limit": 301.81}))
        # And only JSON numbers are numbers
        assert not pattern.matches(with_detail(**{**good, "c-count": "3"}))

    @pytest.mark.parametrize(
        ("condition", "inside", "outside"),
        [
            (["=", 3], [3, 3.0], [2, 4]),
            (["<", 3], [2.99, -1], [3, 4]),
            (["<=", 3], [3, -5], [3.01]),
            ([">", 3], [3.5], [3, 0]),
            ([">=", 3], [3, 100], [2.999]),
            ([">=", 0, "<", 1], [0, 0.5], [1, -0.1]),
        ],
    )
    def test_numeric_operators(self, condition: list[Any], inside: list[float], outside: list[float]) -> None:
        pattern = EventPattern({"n": [{"numeric": condition}]})
        assert all(pattern.matches({"n": value}) for value in inside)
        assert not any(pattern.matches({"n": value}) for value in outside)

    def test_exists_true_needs_the_leaf(self) -> None:
        # Given the guide's {"detail": {"state": [{"exists": true}]}}
        pattern = EventPattern({"detail": {"state": [{"exists": True}]}})
        # Then the pending instance event matches; the event with only detail.c-count.c1 does not
        assert pattern.matches(ec2_state_event("pending"))
        assert not pattern.matches({"detail": {"c-count": {"c1": 100}}})

    def test_exists_false_matches_absent_and_intermediate_nodes(self) -> None:
        # Given the (older) guide's {"detail": {"c-count": [{"exists": false}]}}
        pattern = EventPattern({"detail": {"c-count": [{"exists": False}]}})
        # Then an event without c-count matches, and so does one where c-count is an object (not a leaf)
        assert pattern.matches({"detail": {"state": ["initializing", "running"]}})
        assert pattern.matches({"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}})
        # But a leaf c-count, even 0 or null, exists
        assert not pattern.matches({"detail": {"c-count": 0}})
        assert not pattern.matches({"detail": {"c-count": None}})

    def test_complex_example_combines_operators(self) -> None:
        pattern = EventPattern(
            {
                "time": [{"prefix": "2017-10-02"}],
                "detail": {
                    "state": [{"anything-but": "initializing"}],
                    "c-count": [{"numeric": [">", 0, "<=", 5]}],
                    "d-count": [{"numeric": ["<", 10]}],
                    "x-limit": [{"anything-but": [100, 200, 300]}],
                },
            }
        )
        good: Event = {
            "time": "2017-10-02T18:43:48Z",
            "detail": {"state": "running", "c-count": 3, "d-count": 1, "x-limit": 250},
        }
        assert pattern.matches(good)
        for field, bad in [("state", "initializing"), ("c-count", 6), ("d-count", 11), ("x-limit", 300)]:
            broken = copy.deepcopy(good)
            broken["detail"][field] = bad
            assert not pattern.matches(broken), field
        assert not pattern.matches({**good, "time": "2017-10-01T00:00:00Z"})

    def test_or_across_top_level_fields(self) -> None:
        # Given the guide's $or example: CloudWatch metric events by metric name OR by namespace
        pattern = EventPattern(
            {
                "source": ["aws.cloudwatch"],
                "$or": [
                    {"metricName": ["CPUUtilization", "ReadLatency"]},
                    {"namespace": ["AWS/EC2", "AWS/ES"]},
                ],
            }
        )
        assert pattern.matches(
            {"source": "aws.cloudwatch", "metricName": "ReadLatency", "namespace": "AWS/RDS"}
        )
        assert pattern.matches(
            {"source": "aws.cloudwatch", "metricName": "NetworkIn", "namespace": "AWS/EC2"}
        )
        assert not pattern.matches(
            {"source": "aws.cloudwatch", "metricName": "NetworkIn", "namespace": "AWS/RDS"}
        )
        # And the fields outside $or still apply
        assert not pattern.matches({"source": "aws.ec2", "metricName": "CPUUtilization"})

    def test_or_inside_detail(self) -> None:
        pattern = EventPattern(
            {
                "detail": {
                    "$or": [
                        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                        {"d-count": [{"numeric": ["<", 10]}]},
                        {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                    ]
                }
            }
        )
        assert pattern.matches(with_detail(**{"c-count": 50, "d-count": 50, "x-limit": 301.8}))
        assert pattern.matches(with_detail(**{"d-count": 2}))
        assert not pattern.matches(with_detail(**{"c-count": 50, "d-count": 50, "x-limit": 300}))

    def test_repeated_key_in_pattern_text_last_one_wins(self) -> None:
        # The guide: with "location" twice, only { "anything-but": "us-east" } is evaluated
        pattern = EventPattern(
            '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
        )
        assert pattern.matches(with_detail(location="eu-west"))
        assert not pattern.matches(with_detail(location="us-east"))


# ---------------------------------------------------------------------------------------------------------------
class TestArraysOfObjects:
    """The case moto gets wrong (REFERENCE.md): a field pattern matches when any element of an array matches."""

    crash = EventPattern({"detail": {"containers": {"exitCode": [{"anything-but": 0}]}}})

    def test_any_element_of_an_array_of_objects_can_match(self) -> None:
        assert self.crash.matches(with_detail(containers=[{"exitCode": 1}]))
        assert self.crash.matches(with_detail(containers=[{"exitCode": 0}, {"exitCode": 137}]))

    def test_no_matching_element_means_no_match(self) -> None:
        assert not self.crash.matches(with_detail(containers=[{"exitCode": 0}]))
        assert not self.crash.matches(with_detail(containers=[{"exitCode": 0}, {"exitCode": 0}]))

    def test_anything_but_never_matches_a_missing_value(self) -> None:
        # Given a container that never started (no exitCode), an empty list, or no containers at all
        for detail in ({"containers": [{"name": "app"}]}, {"containers": []}, {}):
            # Then "anything but 0" does not match: the value has to exist
            assert not self.crash.matches(with_detail(**detail)), detail

    def test_fields_of_one_nested_pattern_must_hold_in_the_same_element(self) -> None:
        pattern = EventPattern({"detail": {"containers": {"name": ["game"], "exitCode": [1]}}})
        assert pattern.matches(
            with_detail(containers=[{"name": "sidecar", "exitCode": 0}, {"name": "game", "exitCode": 1}])
        )
        assert not pattern.matches(
            with_detail(containers=[{"name": "game", "exitCode": 0}, {"name": "sidecar", "exitCode": 1}])
        )

    def test_scalar_arrays_match_element_wise_for_every_operator(self) -> None:
        event = with_detail(state=["initializing", "running"], sizes=[3, 30])
        assert matches({"detail": {"state": ["running"]}}, event)
        assert matches({"detail": {"state": [{"anything-but": "initializing"}]}}, event)
        assert not matches({"detail": {"state": [{"anything-but": ["initializing", "running"]}]}}, event)
        assert matches({"detail": {"sizes": [{"numeric": [">", 10]}]}}, event)
        assert not matches({"detail": {"sizes": [{"numeric": [">", 100]}]}}, event)

    def test_nested_pattern_against_a_scalar_or_missing_object(self) -> None:
        pattern = EventPattern({"detail": {"trigger": {"risk": [8]}}})
        assert not pattern.matches(with_detail(trigger="high"))
        assert not pattern.matches(with_detail())
        # Only "exists: false" can hold under an object that is not there
        absent = EventPattern({"detail": {"trigger": {"risk": [{"exists": False}]}}})
        assert absent.matches(with_detail())
        assert not absent.matches(with_detail(trigger={"risk": 8}))


class TestTypeStrictness:
    @pytest.mark.parametrize(
        ("expected", "value"),
        [(0, "0"), ("0", 0), (True, 1), (1, True), (False, 0), (None, "null"), ("true", True), (1, 1.0)],
    )
    def test_exact_values_never_coerce(self, expected: Any, value: Any) -> None:
        assert not matches({"v": [expected]}, {"v": value})
        assert matches({"v": [expected]}, {"v": expected})

    def test_anything_but_zero_matches_other_types(self) -> None:
        # "Anything but 0" is about the number 0; the string "0" is something else
        pattern = EventPattern({"v": [{"anything-but": 0}]})
        assert pattern.matches({"v": "0"})
        assert not pattern.matches({"v": 0})

    def test_string_operators_ignore_non_strings(self) -> None:
        assert not matches({"v": [{"prefix": "1"}]}, {"v": 12})
        assert not matches({"v": [{"equals-ignore-case": "true"}]}, {"v": True})


class TestAgreesWithMoto:
    """Differential check: where moto's matcher is known to be right (no arrays of objects), we agree with it."""

    CASES: ClassVar[list[tuple[dict[str, Any], dict[str, Any]]]] = [
        ({"source": ["aws.ecs"]}, {"source": "aws.ecs"}),
        ({"source": ["aws.ecs"]}, {"source": "aws.ec2"}),
        ({"detail": {"state": [{"prefix": "run"}]}}, {"detail": {"state": "running"}}),
        ({"detail": {"state": [{"prefix": "run"}]}}, {"detail": {"state": "stopped"}}),
        ({"detail": {"state": [{"anything-but": "stopped"}]}}, {"detail": {"state": "running"}}),
        ({"detail": {"state": [{"anything-but": "stopped"}]}}, {"detail": {"state": "stopped"}}),
        ({"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}, {"detail": {"n": 5}}),
        ({"detail": {"n": [{"numeric": [">", 0, "<=", 5]}]}}, {"detail": {"n": 0}}),
        ({"detail": {"n": [{"exists": False}]}}, {"detail": {}}),
        ({"detail": {"n": [{"exists": True}]}}, {"detail": {}}),
        ({"detail": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}, {"detail": {"b": "y"}}),
        ({"detail": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}, {"detail": {"a": "y", "b": "x"}}),
        ({"resources": ["arn:1"]}, {"resources": ["arn:0", "arn:1"]}),
        ({"resources": ["arn:1"]}, {"resources": ["arn:0"]}),
    ]

    @pytest.mark.parametrize(("pattern", "event"), CASES)
    def test_same_verdict_as_moto(self, pattern: dict[str, Any], event: dict[str, Any]) -> None:
        moto_events = pytest.importorskip("moto.events.models")
        expected = moto_events.EventPattern.load(json.dumps(pattern)).matches_event(event)
        assert EventPattern(pattern).matches(event) is expected


# ---------------------------------------------------------------------------------------------------------------
class TestRefusals:
    """Syntax outside the implemented subset raises at parse time: never a silent match or a silent miss."""

    @pytest.mark.parametrize(
        "operator",
        [
            {"cidr": "10.0.0.0/24"},
            {"wildcard": "*/lib/*"},
            {"contains": "Normal"},
            {"anything_but": 0},
            {"Prefix": "us-"},
            {"anything-but": {"wildcard": "*/lib/*"}},
        ],
    )
    def test_unsupported_operator_is_named(self, operator: dict[str, Any]) -> None:
        with pytest.raises(EventPatternError, match="unsupported operator"):
            EventPattern({"detail": {"field": [operator]}})

    def test_refusal_happens_even_when_the_event_lacks_the_field(self) -> None:
        with pytest.raises(EventPatternError, match=r"detail\.sourceIPAddress\[0\]"):
            matches({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}, {"source": "aws.ec2"})

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ({"source": "aws.ec2"}, "must be a list"),
            ({"source": []}, "empty list"),
            ({"source": [["aws.ec2"]]}, "JSON scalar or an operator"),
            ({}, "empty object"),
            ({"detail": {}}, "empty object"),
            ({"v": [{"prefix": "a", "suffix": "b"}]}, "exactly one operator"),
            ({"v": [{"prefix": 1}]}, "expected a string"),
            ({"v": [{"exists": "true"}]}, "true or false"),
            ({"v": [{"numeric": [">", "1"]}]}, "needs a number"),
            ({"v": [{"numeric": [">", True]}]}, "needs a number"),
            ({"v": [{"numeric": ["!=", 1]}]}, "unknown comparison"),
            ({"v": [{"numeric": [">", 1, "<"]}]}, "expected"),
            ({"v": [{"numeric": ["<", 5, ">", 1]}]}, "lower bound"),
            ({"v": [{"numeric": [">", 5, "<", 1]}]}, "empty range"),
            ({"v": [{"anything-but": ["a", 1]}]}, "only strings or only numbers"),
            ({"v": [{"anything-but": []}]}, "only strings or only numbers"),
            ({"v": [{"anything-but": True}]}, "only strings or only numbers"),
            ({"v": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}, "one of prefix"),
            ({"$or": {"a": ["x"]}}, r"\$or takes"),
            ({"$or": []}, r"\$or takes"),
            ({"$or": [{"a": ["x"]}, "b"]}, "expected an object"),
        ],
    )
    def test_malformed_patterns_are_rejected_with_a_reason(
        self, pattern: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(EventPatternError, match=message):
            EventPattern(pattern)

    def test_invalid_json_text(self) -> None:
        with pytest.raises(EventPatternError, match="not valid JSON"):
            EventPattern('{"source": ["aws.ec2"]')

    def test_repr_shows_the_pattern(self) -> None:
        assert "aws.ec2" in repr(EventPattern({"source": ["aws.ec2"]}))
