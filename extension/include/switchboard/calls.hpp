// Voice calls: the status state machine and how record_call folds a provider
// event into a call.  Pure C++ (no Postgres): used by src/pg/call_functions.cpp
// (record_call and the calls trigger) and the unit tests.
//
// Times are Postgres TimestampTz values: microseconds since 2000-01-01 UTC.
#pragma once

#include <cstdint>
#include <climits>
#include <string_view>

namespace switchboard::calls {

enum class Status : uint8_t {
    ringing,
    in_progress,
    completed,
    failed,
    busy,
    no_answer,
    canceled,
};
inline constexpr int status_count = 7;

// The canonical spelling, as stored in calls.status.
const char *name(Status status);

// Reads a status as a provider or a person writes it: case-insensitive, blanks
// around it ignored, '-' and ' ' same as '_', and these aliases:
//   queued, initiated, started -> ringing
//   answered, in-progress, inprogress -> in_progress
//   no-answer, noanswer, unanswered, timeout -> no_answer
//   cancelled -> canceled,  rejected -> busy
// Returns false for anything else.
bool parse_status(std::string_view text, Status &out);

// completed, failed, busy, no_answer, canceled: the call is over.
bool is_final(Status status);

// ringing 0, in_progress 1, final states 2: the state machine only moves up.
int rank(Status status);

// What going from one status to another is.
enum class Transition : uint8_t {
    same,      // the same status again: an idempotent no-op
    forward,   // a legal step: ringing -> anything, in_progress -> a final status
    backward,  // to an earlier state (in_progress -> ringing, final -> not final): illegal
    conflict,  // from a final status to another final one: illegal
};
Transition classify(Status from, Status to);

// Legal for the trigger: same or forward.
inline bool is_legal(Status from, Status to)
{
    Transition t = classify(from, to);
    return t == Transition::same || t == Transition::forward;
}

// The errdetail sentence of an illegal transition (without the call_sid), e.g.
// "a final status never changes" / "an answered call does not ring again".
const char *illegal_reason(Status from, Status to);

inline constexpr int64_t usecs_per_second = 1000000;

// Postgres's -infinity and infinity timestamps (DT_NOBEGIN, DT_NOEND): nothing
// is derived from them.
inline bool is_finite(int64_t t)
{
    return t != INT64_MIN && t != INT64_MAX;
}

// A nullable timestamp / integer, as plain data.
struct OptTime {
    bool known = false;
    int64_t value = 0;
};
struct OptInt {
    bool known = false;
    int32_t value = 0;
};

// The columns of a calls row that the state machine reads and derives.
struct CallState {
    Status status = Status::ringing;
    int64_t started_at = 0;
    OptTime answered_at;
    OptTime ended_at;
    OptInt duration_seconds;
};

// One provider event, as record_call receives it.
struct CallEvent {
    Status status = Status::ringing;
    int64_t at = 0;            // when it happened
    OptInt duration_seconds;   // as reported by the provider, if at all
};

// The row record_call inserts for a call it has not seen before.
CallState first_event(const CallEvent &event);

// The row record_call writes for an event of a call it already has.  Events
// may arrive late or out of order (providers retry; two webhooks race), so an
// event of an earlier state (backward) does not move the call back: the status
// stays, and only what the event adds is kept (an earlier started_at, an
// answer time still missing).  A conflicting final status (completed, then
// failed) is passed on as is, for the trigger to refuse with 23514.
CallState apply_event(const CallState &current, const CallEvent &event);

// What the trigger derives when missing, with `now` as the time of anything
// that happens in this statement (the transaction timestamp):
//   in_progress without answered_at  -> answered_at = now
//   final without ended_at           -> ended_at = now
//   completed without answered_at but with duration_seconds
//                                    -> answered_at = ended_at - duration_seconds
//   final without duration_seconds   -> ended_at - answered_at in whole seconds
//                                       (rounded down, never negative) when answered,
//                                       0 for failed/busy/no_answer/canceled never answered,
//                                       unknown (NULL) for a completed call never answered
//                                       (and when a time is +-infinity)
void derive(CallState &row, int64_t now);

// Whole seconds from `from` to `to`, rounded down, clamped to 0..INT32_MAX.
int32_t seconds_between(int64_t from, int64_t to);

}  // namespace switchboard::calls
