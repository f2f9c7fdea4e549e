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
// The trigger takes
// the hint only for the row it describes and clears it; record_inbound clears
// it in PG_FINALLY, so an error cannot leave it set.
struct MessageStatsHint {
    bool set;
    pg_uuid_t conversation_id;  // the row it describes: its conversation and time
    TimestampTz at;
    DateADT day;
    bool new_session;
    bool phone_seen;
};

extern MessageStatsHint message_stats_hint;

}  // namespace switchboard::pg
