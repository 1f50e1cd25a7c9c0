"""CloudWatch Logs filter patterns (term / quoted-phrase subset): documented examples, edge cases, refusals.

Documented examples are paraphrased from the CloudWatch Logs user guide, "Filter pattern syntax for metric
filters, subscription filters, filter log events, and Live Tail":
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
(archived text: awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
"""

from __future__ import annotations

import pytest

from container_manager.matching.filter_pattern import FilterPattern, FilterPatternError, matches


def matching(pattern: str, messages: list[str]) -> list[str]:
    parsed = FilterPattern.parse(pattern)
    return [message for message in messages if parsed.matches(message)]


class TestDocumentedTerms:
    def test_single_term_matches_anywhere_in_the_message(self) -> None:
        # Given the guide's Example 1: the term ERROR
        # Then it matches a bracketed level and a longer word that contains it
        assert matches("ERROR", "[ERROR] A fatal exception has occurred")
        assert matches("ERROR", "Exiting with ERRORCODE: -1")
        assert not matches("ERROR", "[INFO] all good")

    def test_terms_are_case_sensitive(self) -> None:
        assert not matches("ERROR", "[error] lower case")

    def test_excluding_a_term(self) -> None:
        # Given the guide's Example 2: ERROR but not Exiting
        assert matches("ERROR -Exiting", "[ERROR] A fatal exception has occurred")
        assert not matches("ERROR -Exiting", "Exiting with ERRORCODE: -1")

    def test_multiple_terms_must_all_occur(self) -> None:
        # Given the guide's Example 3
        assert matches("ERROR Exception", "[ERROR] Caught IllegalArgumentException")
        assert matches("ERROR Exception", "[ERROR] Unhandled Exception")
        assert not matches("ERROR Exception", "[ERROR] Unhandled failure")
        pattern = "Failed to process the request"
        assert matches(pattern, "[WARN] Failed to process the request")
        assert matches(pattern, "[ERROR] Unable to continue: Failed to process the request")

    def test_or_and_not_on_the_three_documented_messages(self) -> None:
        # Given the guide's "OR pattern matching" messages
        messages = ["ERROR WARN message", "ERROR message", "WARN message"]
        # Then each documented pattern selects exactly the documented messages
        assert matching("ERROR", messages) == ["ERROR WARN message", "ERROR message"]
        assert matching("?ERROR ?WARN", messages) == messages
        assert matching("ERROR WARN", messages) == ["ERROR WARN message"]
        assert matching("ERROR -WARN", messages) == ["ERROR message"]

    def test_empty_pattern_matches_every_event(self) -> None:
        # Documented for the Logs APIs, e.g. GetContainerLog's filterPattern: "" returns all log events
        assert matches("", "anything at all")
        assert matches("   ", "")

    def test_only_exclusions(self) -> None:
        # Documented as "-ERROR": every event that does not contain ERROR
        assert matches("-ERROR", "[INFO] fine")
        assert not matches("-ERROR", "[ERROR] broken")


class TestQuotedPhrases:
    def test_phrase_must_occur_contiguously(self) -> None:
        assert matches('"Failed to process"', "Failed to process the request")
        # whereas the same words as separate terms match when scattered
        assert not matches('"Failed to process"', "Failed: unable to process")
        assert matches("Failed to process", "Failed: unable to process")

    def test_spaces_inside_a_phrase_count(self) -> None:
        line = (
            "1.0 2017-12-13T08:16:02.130Z Z123412341234 minecraft.example.com A NOERROR UDP IAD12 192.0.2.1 -"
        )
        assert matches('" minecraft.example.com A "', line)
        assert not matches('" minecraft.example.com AAAA "', line)
        assert not matches('" craft.example.com A "', line)
        assert not matches('"minecraft.example.com A "', line.replace(" A ", " AAAA "))

    def test_or_between_phrases(self) -> None:
        pattern = FilterPattern.parse('?" a.example.com A " ?" a.example.com AAAA "')
        assert pattern.any_of == (" a.example.com A ", " a.example.com AAAA ")
        assert pattern.matches("x a.example.com AAAA y")
        assert pattern.matches("x a.example.com A y")
        assert not pattern.matches("x a.example.com TXT y")

    def test_excluded_phrase(self) -> None:
        assert matches('ERROR -"health check"', "ERROR in request")
        assert not matches('ERROR -"health check"', "ERROR health check failed")

    def test_escaped_quote_and_backslash_inside_a_phrase(self) -> None:
        assert matches(r'"say \"hi\""', 'they say "hi" twice')
        assert matches(r'"C:\\temp"', r"wrote C:\temp\file")
        assert not matches(r'"say \"hi\""', "they say hi twice")

    def test_characters_inside_quotes_are_literal(self) -> None:
        # Brackets, braces and percent signs are plain text inside a phrase
        assert matches('"[ERROR]"', "[ERROR] boom")
        assert matches('"{ $.x }"', "literal { $.x } here")
        assert matches('"%d%"', "format %d%")


class TestRefusals:
    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ('{ $.eventType = "UpdateTrail" }', "JSON filter patterns"),
            ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', "JSON filter patterns"),
            ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", "space-delimited"),
            ("[w1=ERROR || w1=WARN, w2]", "space-delimited"),
            ("%[hc]at%", "regular-expression"),
        ],
    )
    def test_other_pattern_syntaxes_are_named(self, pattern: str, message: str) -> None:
        with pytest.raises(FilterPatternError, match=message):
            FilterPattern.parse(pattern)

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ("minecraft.example.com", "must be quoted|double quotes"),
            ("ERROR Exiting:", "double quotes"),
            ("ERROR *Exception", "double quotes"),
            ("ERROR ?WARN", "mixes"),
            ("?ERROR -WARN", "mixes"),
            ('"unterminated', "unterminated"),
            ("?", "must be followed"),
            ("ERROR - Exiting", "must be followed"),
            ("-?ERROR", "combines markers"),
            ('"a"b', "followed by a space"),
        ],
    )
    def test_malformed_or_undefined_patterns_are_rejected(self, pattern: str, message: str) -> None:
        with pytest.raises(FilterPatternError, match=message):
            FilterPattern.parse(pattern)
