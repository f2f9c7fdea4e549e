// The call-status state machine and record_call's event folding.  See calls.hpp.
#include "switchboard/cpp_only.hpp"
#include "switchboard/calls.hpp"

#include <climits>
#include <cstring>

namespace switchboard::calls {

namespace {

const char *const names[status_count] = {
    "ringing", "in_progress", "completed", "failed", "busy", "no_answer", "canceled",
};

struct Alias {
    const char *spelling;  // lower case, '_' for '-' and ' '
    Status status;
};

const Alias aliases[] = {
    {"ringing", Status::ringing},
    {"queued", Status::ringing},
    {"initiated", Status::ringing},
    {"started", Status::ringing},
    {"in_progress", Status::in_progress},
    {"inprogress", Status::in_progress},
    {"answered", Status::in_progress},
    {"completed", Status::completed},
    {"failed", Status::failed},
    {"busy", Status::busy},
    {"rejected", Status::busy},
    {"no_answer", Status::no_answer},
    {"noanswer", Status::no_answer},
    {"unanswered", Status::no_answer},
    {"timeout", Status::no_answer},
    {"canceled", Status::canceled},
    {"cancelled", Status::canceled},
};

bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

const char *name(Status status)
{
    return names[static_cast<int>(status)];
}

bool parse_status(std::string_view text, Status &out)
{
    while (!text.empty() && is_blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    char folded[16];
    if (text.empty() || text.size() >= sizeof folded)
        return false;
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c == '\0')
            return false;
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        else if (c == '-' || c == ' ')
            c = '_';
        folded[i] = c;
    }
    folded[text.size()] = '\0';
    for (const Alias &alias : aliases) {
        if (std::strcmp(alias.spelling, folded) == 0) {
            out = alias.status;
            return true;
        }
    }
    return false;
}

bool is_final(Status status)
{
    return status != Status::ringing && status != Status::in_progress;
}

int rank(Status status)
{
    switch (status) {
    case Status::ringing:
        return 0;
    case Status::in_progress:
        return 1;
    default:
        return 2;
    }
}

Transition classify(Status from, Status to)
{
    if (from == to)
        return Transition::same;
    int a = rank(from), b = rank(to);
    if (b > a)
        return Transition::forward;
    if (b < a)
        return Transition::backward;
    return Transition::conflict;  // two different final states
}

const char *illegal_reason(Status from, Status to)
{
    if (is_final(from))
        return "has ended, and a final status never changes";
    if (from == Status::in_progress && to == Status::ringing)
        return "was answered, and an answered call does not ring again";
    return "cannot make this transition";
}

int32_t seconds_between(int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    uint64_t seconds = (static_cast<uint64_t>(to) - static_cast<uint64_t>(from)) /
                       static_cast<uint64_t>(usecs_per_second);
    return seconds > INT32_MAX ? INT32_MAX : static_cast<int32_t>(seconds);
}

void derive(CallState &row, int64_t now)
{
    bool final = is_final(row.status);
    if (row.status == Status::in_progress && !row.answered_at.known)
        row.answered_at = {true, now};
    if (final && !row.ended_at.known)
        row.ended_at = {true, now};
    if (row.status == Status::completed && !row.answered_at.known && row.duration_seconds.known &&
        is_finite(row.ended_at.value) && row.duration_seconds.value >= 0)
        row.answered_at = {true, row.ended_at.value -
                                     static_cast<int64_t>(row.duration_seconds.value) * usecs_per_second};
    if (final && !row.duration_seconds.known) {
        if (row.answered_at.known) {
            if (is_finite(row.answered_at.value) && is_finite(row.ended_at.value))
                row.duration_seconds = {true, seconds_between(row.answered_at.value, row.ended_at.value)};
        } else if (row.status != Status::completed)
            row.duration_seconds = {true, 0};
        // a completed call whose answer time nobody told us: duration unknown
    }
}

namespace {

void start_no_later_than_answer(CallState &row)
{
    if (row.answered_at.known && row.answered_at.value < row.started_at)
        row.started_at = row.answered_at.value;
}

}  // namespace

CallState first_event(const CallEvent &event)
{
    CallState row;
    row.status = event.status;
    row.started_at = event.at;
    row.duration_seconds = event.duration_seconds;
    derive(row, event.at);
    start_no_later_than_answer(row);
    return row;
}

CallState apply_event(const CallState &current, const CallEvent &event)
{
    CallState row = current;
    if (event.at < row.started_at)
        row.started_at = event.at;
    switch (classify(current.status, event.status)) {
    case Transition::conflict:
        // completed, then failed: a contradiction the trigger refuses (23514)
        row.status = event.status;
        return row;
    case Transition::backward:
        // a late event of an earlier state: the call stays where it is, but
        // an answer time or a duration nobody had told us is kept
        if (event.status == Status::in_progress && !row.answered_at.known)
            row.answered_at = {true, event.at};
        if (event.duration_seconds.known && !row.duration_seconds.known)
            row.duration_seconds = event.duration_seconds;
        break;
    case Transition::same:
        if (event.duration_seconds.known)
            row.duration_seconds = event.duration_seconds;
        break;
    case Transition::forward:
        row.status = event.status;
        // entering a final state: the provider's duration, else derived below
        if (is_final(event.status) || event.duration_seconds.known)
            row.duration_seconds = event.duration_seconds;
        break;
    }
    derive(row, event.at);
    start_no_later_than_answer(row);
    return row;
}

}  // namespace switchboard::calls
