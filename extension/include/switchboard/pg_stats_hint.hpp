// What record_inbound knows about the message it is inserting, handed to the
// analytics trigger (stats_on_message) so that it need not read it again.
#pragma once

#include "switchboard/pg_guard.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/date.h"
#include "utils/uuid.h"
}

namespace switchboard::pg {

// Set by record_inbound around the insert of one accepted inbound message on
// a conversation it holds locked, when that message is in order: no accepted
// message of the conversation is later (its time is at or after the locked
// row's last_message_at) and its id is the newest.  Then the trigger needs
// neither the agent's timezone (`day` is the message's day) nor the message's
// accepted neighbours (none later; the previous one does not matter to an
// inbound message), only whether the conversation's and the session's first
// messages are known; `new_session`: record_inbound has just started the
// session (its id is new: it has no first message yet); `phone_seen`: the
// conversation's last accepted inbound message was earlier the same day, so the
// phone's seen-set row of the day exists (written by that message's trigger).
// `caller_stages`: record_outbound stages the message's analytics itself, in
// the statement that inserts it (or calls stage_message_stats after it), so
// the trigger does nothing for that row.
// The trigger takes
// the hint only for the row it describes and clears it; record_* clear it in
// PG_FINALLY, so an error cannot leave it set.
struct MessageStatsHint {
    bool set;
    pg_uuid_t conversation_id;  // the row it describes: its conversation and time
    TimestampTz at;
    DateADT day;
    bool new_session;
    bool phone_seen;
    bool caller_stages;
};

extern MessageStatsHint message_stats_hint;

// The columns of a stored message that its analytics read.
struct MessageFacts {
    Datum agent_id;
    int64 message_id;
    Datum conversation_id;  // 0 when none
    Datum session_id;       // 0 when none
    bool inbound;
    Datum phone;     // text
    Datum metadata;  // jsonb
    Datum decision;  // text
    TimestampTz at;
    bool after_hours;
};

// Whether the analytics are on in this session (switchboard.stats_rollup).
bool stats_rollup_on();

// Takes the per-conversation transaction lock under which a message's
// analytics are staged (the trigger takes the same one).
void lock_conversation_stats(Datum conversation_id);

// Stages the analytics of one stored message, as the trigger does for a row
// it is not told about: the general path, for any message in any order.
void stage_message_stats(const MessageFacts &m);

// After a staged row: folds the agent now and then (one staged row in 1,024).
void fold_after_stage(Datum agent_id, int64 delta_id);

}  // namespace switchboard::pg
