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

// Whether row-level security filters switchboard.agents for the current user
// (row_security_active('switchboard.agents')).  Never raises a Postgres ERROR
// past the caller: failures come back as PgError through pg::call.
bool agents_row_security_active();

// The error for an agent the caller cannot see (see above); agent_uuid is its
// text form.  Throw it: `throw switchboard::pg::agent_not_found(text);`.
switchboard::Error agent_not_found(const char *agent_uuid);

// The same for a conversation of an agent (record_outbound and triggers):
// 42501 `permission denied for conversation "<uuid>"` under row-level
// security, else P0002 `conversation "<uuid>" does not exist`.
switchboard::Error conversation_not_found(const char *conversation_uuid);

}  // namespace switchboard::pg
