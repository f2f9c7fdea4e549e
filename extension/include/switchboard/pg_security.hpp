// Who may see an agent: the one place that decides which error a caller gets
// for an agent it cannot see.
//
// Under row-level security an agent that belongs to someone else and an agent
// that does not exist look the same (no visible row), and they must stay
// indistinguishable: the caller gets ERROR 42501 `permission denied for agent
// "<uuid>"` either way.  A caller that sees every row (superuser, table owner,
// BYPASSRLS such as Supabase's service_role) learns the truth: P0002
// `agent "<uuid>" does not exist`.
//
// Include after switchboard/pg_guard.hpp (it needs Postgres headers).
#pragma once

#include "switchboard/error.hpp"

namespace switchboard::pg {

// --- C-style: these ereport.  Call them only while no C++ object with a
// destructor is live (the SPI-level code of events.cpp, triggers).

// row_security_active('switchboard.agents'), without the name lookup by SQL.
bool agents_rls_active_c();

// ERROR for an agent the caller cannot see, as described above.
[[noreturn]] void raise_agent_not_found(Datum agent_id);

// ERROR for a conversation not found: when the caller cannot see its agent
// either (row-level security), the agent's 42501, so someone else's
// conversation and a missing one look the same; else P0002 `conversation
// "<uuid>" does not exist` (the owner of a visible agent sees all of its
// conversations, so this tells nothing new).  Runs one query through SPI
// (connects itself).
[[noreturn]] void raise_conversation_not_found(Datum agent_id, Datum conversation_id);

// --- C++: these go through pg::call and return an exception to throw.

// Whether row-level security filters switchboard.agents for the current user
// (row_security_active('switchboard.agents')).  Never raises a Postgres ERROR
// past the caller: failures come back as PgError through pg::call.
bool agents_row_security_active();

// The error for an agent the caller cannot see (see above); agent_uuid is its
// text form.  Throw it: `throw switchboard::pg::agent_not_found(text);`.
switchboard::Error agent_not_found(const char *agent_uuid);

}  // namespace switchboard::pg
