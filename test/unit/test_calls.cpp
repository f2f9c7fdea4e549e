// The call-status state machine and record_call's event folding (calls.hpp).
#include "switchboard/cpp_only.hpp"
#include "switchboard/calls.hpp"

#include <catch2/catch.hpp>

using namespace switchboard::calls;

namespace {

const int64_t S = usecs_per_second;

Status parsed(const char *text)
{
    Status s = Status::ringing;
    REQUIRE(parse_status(text, s));
    return s;
}

CallEvent event(Status status, int64_t at, bool has_duration = false, int32_t duration = 0)
{
    CallEvent e;
    e.status = status;
    e.at = at;
    e.duration_seconds = {has_duration, duration};
    return e;
}

}  // namespace

TEST_CASE("call statuses: canonical names round-trip", "[calls]")
{
    for (int i = 0; i < status_count; i++) {
        Status s = static_cast<Status>(i);
        CHECK(parsed(name(s)) == s);
    }
}

TEST_CASE("call statuses: provider spellings", "[calls]")
{
    CHECK(parsed("answered") == Status::in_progress);
    CHECK(parsed("in-progress") == Status::in_progress);
    CHECK(parsed("In Progress") == Status::in_progress);
    CHECK(parsed("IN_PROGRESS") == Status::in_progress);
    CHECK(parsed("no-answer") == Status::no_answer);
    CHECK(parsed("No Answer") == Status::no_answer);
    CHECK(parsed("cancelled") == Status::canceled);
    CHECK(parsed("  Completed\n") == Status::completed);
    CHECK(parsed("queued") == Status::ringing);
    CHECK(parsed("initiated") == Status::ringing);
    CHECK(parsed("rejected") == Status::busy);
    Status s;
    CHECK_FALSE(parse_status("", s));
    CHECK_FALSE(parse_status("   ", s));
    CHECK_FALSE(parse_status("ring", s));
    CHECK_FALSE(parse_status("completedx", s));
    CHECK_FALSE(parse_status("a-very-long-status-that-is-not-one", s));
    CHECK_FALSE(parse_status(std::string_view("busy\0", 5), s));
}

TEST_CASE("call statuses: the transition matrix", "[calls]")
{
    for (int i = 0; i < status_count; i++) {
        for (int j = 0; j < status_count; j++) {
            Status from = static_cast<Status>(i), to = static_cast<Status>(j);
            bool legal = from == to || from == Status::ringing ||
                         (from == Status::in_progress && is_final(to));
            INFO(name(from) << " -> " << name(to));
            CHECK(is_legal(from, to) == legal);
        }
    }
    CHECK(classify(Status::completed, Status::failed) == Transition::conflict);
    CHECK(classify(Status::completed, Status::ringing) == Transition::backward);
    CHECK(classify(Status::in_progress, Status::ringing) == Transition::backward);
    CHECK(classify(Status::ringing, Status::completed) == Transition::forward);
    CHECK(classify(Status::busy, Status::busy) == Transition::same);
}

TEST_CASE("derive: answered, ended and duration", "[calls]")
{
    CallState row;
    row.status = Status::in_progress;
    derive(row, 100 * S);
    CHECK(row.answered_at.known);
    CHECK(row.answered_at.value == 100 * S);
    CHECK_FALSE(row.ended_at.known);
    CHECK_FALSE(row.duration_seconds.known);

    row.status = Status::completed;
    derive(row, 190 * S + S / 2);
    CHECK(row.ended_at.value == 190 * S + S / 2);
    CHECK(row.duration_seconds.known);
    CHECK(row.duration_seconds.value == 90);  // rounded down

    CallState unanswered;
    unanswered.status = Status::no_answer;
    derive(unanswered, 5 * S);
    CHECK(unanswered.duration_seconds.value == 0);
    CHECK_FALSE(unanswered.answered_at.known);

    CallState direct;
    direct.status = Status::completed;
    derive(direct, 5 * S);
    CHECK(direct.ended_at.value == 5 * S);
    CHECK_FALSE(direct.duration_seconds.known);  // never answered that we know of
    CHECK_FALSE(direct.answered_at.known);

    CallState with_duration;
    with_duration.status = Status::completed;
    with_duration.duration_seconds = {true, 30};
    derive(with_duration, 100 * S);
    CHECK(with_duration.answered_at.value == 70 * S);
    CHECK(with_duration.duration_seconds.value == 30);

    CallState skewed;  // ended before it was answered: never negative
    skewed.status = Status::completed;
    skewed.answered_at = {true, 10 * S};
    derive(skewed, 5 * S);
    CHECK(skewed.duration_seconds.value == 0);

    CallState explicit_values;
    explicit_values.status = Status::failed;
    explicit_values.ended_at = {true, 7 * S};
    explicit_values.duration_seconds = {true, 3};
    derive(explicit_values, 100 * S);
    CHECK(explicit_values.ended_at.value == 7 * S);
    CHECK(explicit_values.duration_seconds.value == 3);
}

TEST_CASE("record_call: the usual life of a call", "[calls]")
{
    CallState row = first_event(event(Status::ringing, 10 * S));
    CHECK(row.status == Status::ringing);
    CHECK(row.started_at == 10 * S);
    CHECK_FALSE(row.answered_at.known);

    row = apply_event(row, event(Status::in_progress, 12 * S));
    CHECK(row.status == Status::in_progress);
    CHECK(row.answered_at.value == 12 * S);

    row = apply_event(row, event(Status::completed, 75 * S));
    CHECK(row.status == Status::completed);
    CHECK(row.ended_at.value == 75 * S);
    CHECK(row.duration_seconds.value == 63);
    CHECK(row.started_at == 10 * S);

    // the provider's duration wins over the derived one
    CallState again = apply_event(row, event(Status::completed, 80 * S, true, 61));
    CHECK(again.duration_seconds.value == 61);
    CHECK(again.ended_at.value == 75 * S);  // the first end time stays
}

TEST_CASE("record_call: late and repeated events", "[calls]")
{
    CallState row = first_event(event(Status::in_progress, 12 * S));
    CHECK(row.answered_at.value == 12 * S);

    // the ringing webhook lost the race: the call does not go back, but it started earlier
    CallState late = apply_event(row, event(Status::ringing, 10 * S));
    CHECK(late.status == Status::in_progress);
    CHECK(late.started_at == 10 * S);
    CHECK(late.answered_at.value == 12 * S);

    // completed first (a provider that only reports the end), with its duration
    CallState done = first_event(event(Status::completed, 100 * S, true, 40));
    CHECK(done.ended_at.value == 100 * S);
    CHECK(done.answered_at.value == 60 * S);
    CHECK(done.started_at == 60 * S);

    // completed first without a duration, then the late in_progress tells the answer time
    CallState bare = first_event(event(Status::completed, 100 * S));
    CHECK_FALSE(bare.duration_seconds.known);
    bare = apply_event(bare, event(Status::in_progress, 70 * S));
    CHECK(bare.status == Status::completed);
    CHECK(bare.answered_at.value == 70 * S);
    CHECK(bare.duration_seconds.value == 30);
    CHECK(bare.started_at == 70 * S);

    // a contradicting final status is passed on for the trigger to refuse
    CallState conflict = apply_event(bare, event(Status::failed, 110 * S));
    CHECK(conflict.status == Status::failed);

    // ringing -> busy: unanswered, duration 0
    CallState busy = apply_event(first_event(event(Status::ringing, 0)), event(Status::busy, 20 * S));
    CHECK(busy.duration_seconds.value == 0);
    CHECK(busy.ended_at.value == 20 * S);
}

TEST_CASE("derive: infinite times derive nothing from them", "[calls]")
{
    CallState row;
    row.status = Status::completed;
    row.answered_at = {true, 0};
    row.ended_at = {true, INT64_MAX};
    derive(row, 5 * S);
    CHECK_FALSE(row.duration_seconds.known);

    CallState minus;
    minus.status = Status::completed;
    minus.ended_at = {true, INT64_MIN};
    minus.duration_seconds = {true, 10};
    derive(minus, 5 * S);
    CHECK_FALSE(minus.answered_at.known);
    CHECK(seconds_between(INT64_MIN + 1, INT64_MAX - 1) == INT32_MAX);
}
