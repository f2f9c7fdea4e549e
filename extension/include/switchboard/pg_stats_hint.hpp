// record_*'s word to the analytics trigger (stats_on_message) that they stage
// the analytics of the row they are inserting themselves.
#pragma once

#include "switchboard/pg_guard.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/date.h"
#include "utils/uuid.h"
}

namespace switchboard::pg {

// Set by record_inbound and record_outbound around the insert of one accepted
// message in order (no accepted message of its conversation is later: its time
// is at or after the locked conversation row's last_message_at), whose
// analytics the inserting statement stages itself (or, when it cannot,
// stage_message_stats after it): the trigger does nothing for that row.  The
// trigger takes the hint only for the row it describes and clears it; record_*
// clear it in PG_FINALLY, so an error cannot leave it set.
struct MessageStatsHint {
    bool set;
    pg_uuid_t conversation_id;  // the row it describes: its conversation and time
    TimestampTz at;
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
