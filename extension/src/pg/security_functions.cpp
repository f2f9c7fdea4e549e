// agent_not_found: the error for an agent the caller cannot see (pg_security.hpp).
#include "switchboard/pg_guard.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/uuid.h"
}

#include "switchboard/pg_security.hpp"

#include <string>

namespace switchboard::pg {

namespace {

bool rls_active_c()
{
    Oid nsp = get_namespace_oid("switchboard", true);
    if (!OidIsValid(nsp))
        return false;
    Oid rel = get_relname_relid("agents", nsp);
    if (!OidIsValid(rel))
        return false;
    // noError: with row_security = off a filtered table would raise here;
    // it still counts as filtered.
    return check_enable_rls(rel, InvalidOid, true) == RLS_ENABLED;
}

}  // namespace

bool agents_row_security_active()
{
    return call(rls_active_c);
}

switchboard::Error agent_not_found(const char *agent_uuid)
{
    std::string id = agent_uuid ? agent_uuid : "";
    if (agents_row_security_active())
        return switchboard::Error(sqlstate::insufficient_privilege,
                                  "permission denied for agent \"" + id + "\"",
                                  "The agent does not exist or belongs to another owner.");
    return switchboard::Error(sqlstate::no_data_found, "agent \"" + id + "\" does not exist");
}

switchboard::Error conversation_not_found(const char *conversation_uuid)
{
    std::string id = conversation_uuid ? conversation_uuid : "";
    if (agents_row_security_active())
        return switchboard::Error(sqlstate::insufficient_privilege,
                                  "permission denied for conversation \"" + id + "\"",
                                  "The conversation does not exist or belongs to another owner.");
    return switchboard::Error(sqlstate::no_data_found,
                              "conversation \"" + id + "\" does not exist");
}

}  // namespace switchboard::pg

// agent_not_found(agent uuid): raises the error above, for SQL and PL/pgSQL callers.
SB_FUNCTION(agent_not_found)
{
    if (PG_ARGISNULL(0))
        throw switchboard::pg::agent_not_found("");
    char *text = DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)));
    throw switchboard::pg::agent_not_found(text);
}

