"""Range and conditional headers of GET/HEAD Object (RFC 9110 §13-14, as COS applies them)."""

from datetime import UTC, datetime

import pytest

from buckets import conditions, errors

ETAG = "5d41402abc4b2a76b9719d911017c592"
MODIFIED = datetime(2024, 5, 16, 6, 45, 51, 700_000, tzinfo=UTC)  # stored with sub-second precision
BEFORE = "Thu, 16 May 2024 06:45:50 GMT"
SAME_SECOND = "Thu, 16 May 2024 06:45:51 GMT"
AFTER = "Thu, 16 May 2024 06:45:52 GMT"


def check(**headers: str) -> bool:
    return conditions.check_preconditions(
        {name.replace("_", "-"): value for name, value in headers.items()}, ETAG, MODIFIED
    )


# -- parse_range -----------------------------------------------------------------------------------------


def test_parse_range_without_a_header_is_the_whole_object():
    assert conditions.parse_range(None, 100) is None


def test_parse_range_of_first_and_last_byte_is_inclusive():
    assert conditions.parse_range("bytes=0-9", 100) == (0, 9)


def test_parse_range_of_a_single_byte():
    assert conditions.parse_range("bytes=99-99", 100) == (99, 99)


def test_parse_range_without_a_last_byte_runs_to_the_end():
    assert conditions.parse_range("bytes=10-", 100) == (10, 99)


def test_parse_range_suffix_is_the_last_n_bytes():
    assert conditions.parse_range("bytes=-10", 100) == (90, 99)


def test_parse_range_suffix_longer_than_the_object_is_the_whole_object():
    assert conditions.parse_range("bytes=-500", 100) == (0, 99)


def test_parse_range_last_byte_beyond_the_end_is_clamped():
    assert conditions.parse_range("bytes=50-500", 100) == (50, 99)


def test_parse_range_first_byte_at_the_size_is_not_satisfiable():
    with pytest.raises(errors.InvalidRange):
        conditions.parse_range("bytes=100-", 100)


def test_parse_range_first_byte_beyond_the_size_is_not_satisfiable():
    with pytest.raises(errors.InvalidRange):
        conditions.parse_range("bytes=200-300", 100)


def test_parse_range_on_an_empty_object_is_not_satisfiable():
    with pytest.raises(errors.InvalidRange):
        conditions.parse_range("bytes=0-", 0)


def test_parse_range_empty_suffix_is_not_satisfiable():
    with pytest.raises(errors.InvalidRange):
        conditions.parse_range("bytes=-0", 100)


def test_invalid_range_answers_416():
    assert errors.InvalidRange.status == 416


@pytest.mark.parametrize(
    "value",
    [
        "bytes=abc",
        "bytes=-",
        "bytes=1-2-3",
        "bytes 0-9",
        "items=0-9",
        "0-9",
        "bytes=9-0",
        "bytes=0-1,5-9",
        "bytes=0-1, 5-9",
    ],
)
def test_parse_range_ignores_a_malformed_or_multiple_range(value):
    assert conditions.parse_range(value, 100) is None


# -- check_preconditions: each header alone --------------------------------------------------------------


def test_no_preconditions_serve_the_object():
    assert check() is True


def test_if_match_with_the_etag_serves_the_object():
    assert check(If_Match=f'"{ETAG}"') is True


def test_if_match_with_the_etag_in_a_list_serves_the_object():
    assert check(If_Match=f'"0000", "{ETAG}"') is True


def test_if_match_star_serves_the_object():
    assert check(If_Match="*") is True


def test_if_match_with_another_etag_fails_the_precondition():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Match='"0000"')


def test_if_match_with_a_weak_etag_fails_because_it_compares_strongly():
    # RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag never matches.
    with pytest.raises(errors.PreconditionFailed):
        check(If_Match=f'W/"{ETAG}"')


def test_precondition_failed_answers_412():
    assert errors.PreconditionFailed.status == 412


def test_if_none_match_with_the_etag_is_not_modified():
    assert check(If_None_Match=f'"{ETAG}"') is False


def test_if_none_match_with_a_weak_etag_is_not_modified_because_it_compares_weakly():
    assert check(If_None_Match=f'W/"{ETAG}"') is False


def test_if_none_match_star_is_not_modified():
    assert check(If_None_Match="*") is False


def test_if_none_match_with_another_etag_serves_the_object():
    assert check(If_None_Match='"0000", "1111"') is True


def test_if_modified_since_before_the_modification_serves_the_object():
    assert check(If_Modified_Since=BEFORE) is True


def test_if_modified_since_in_the_second_of_the_modification_is_not_modified():
    # Last-Modified goes out without its fraction, so a client echoing it back must get 304.
    assert check(If_Modified_Since=SAME_SECOND) is False


def test_if_modified_since_after_the_modification_is_not_modified():
    assert check(If_Modified_Since=AFTER) is False


def test_if_unmodified_since_before_the_modification_fails_the_precondition():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Unmodified_Since=BEFORE)


def test_if_unmodified_since_in_the_second_of_the_modification_serves_the_object():
    assert check(If_Unmodified_Since=SAME_SECOND) is True


def test_if_unmodified_since_after_the_modification_serves_the_object():
    assert check(If_Unmodified_Since=AFTER) is True


def test_if_modified_since_accepts_the_obsolete_rfc_850_date_format():
    assert check(If_Modified_Since="Thursday, 16-May-24 06:45:50 GMT") is True


@pytest.mark.parametrize("header", ["If-Modified-Since", "If-Unmodified-Since"])
@pytest.mark.parametrize("value", ["yesterday", "2024-05-16T06:45:51Z", ""])
def test_a_date_condition_that_is_not_an_http_date_is_an_invalid_argument(header, value):
    with pytest.raises(errors.InvalidArgument):
        conditions.check_preconditions({header: value}, ETAG, MODIFIED)


# -- check_preconditions: RFC 9110 §13.2.2 precedence ----------------------------------------------------


def test_if_match_that_holds_overrides_a_failing_if_unmodified_since():
    assert check(If_Match=f'"{ETAG}"', If_Unmodified_Since=BEFORE) is True


def test_if_match_that_fails_wins_over_a_holding_if_unmodified_since():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Match='"0000"', If_Unmodified_Since=AFTER)


def test_failing_if_match_is_412_even_when_if_none_match_would_be_304():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Match='"0000"', If_None_Match=f'"{ETAG}"')


def test_failing_if_unmodified_since_is_412_even_when_if_none_match_would_be_304():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Unmodified_Since=BEFORE, If_None_Match=f'"{ETAG}"')


def test_failing_if_unmodified_since_is_412_even_when_if_modified_since_would_be_304():
    with pytest.raises(errors.PreconditionFailed):
        check(If_Unmodified_Since=BEFORE, If_Modified_Since=AFTER)


def test_if_none_match_that_does_not_match_overrides_if_modified_since():
    assert check(If_None_Match='"0000"', If_Modified_Since=AFTER) is True


def test_if_none_match_that_matches_overrides_if_modified_since():
    assert check(If_None_Match=f'"{ETAG}"', If_Modified_Since=BEFORE) is False


def test_if_none_match_makes_a_bad_if_modified_since_irrelevant():
    assert check(If_None_Match='"0000"', If_Modified_Since="not a date") is True


def test_if_match_makes_a_bad_if_unmodified_since_irrelevant():
    assert check(If_Match=f'"{ETAG}"', If_Unmodified_Since="not a date") is True


def test_holding_if_match_and_matching_if_none_match_is_not_modified():
    assert check(If_Match=f'"{ETAG}"', If_None_Match=f'"{ETAG}"') is False


def test_holding_if_unmodified_since_and_unchanged_if_modified_since_is_not_modified():
    assert check(If_Unmodified_Since=AFTER, If_Modified_Since=AFTER) is False
