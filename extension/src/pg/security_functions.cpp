// agent_not_found and the not-found errors of the event path (pg_security.hpp).
#include "switchboard/pg_guard.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/uuid.h"
}

#include "switchboard/pg_security.hpp"

#include <string>

namespace switchboard::pg {

bool agents_rls_active_c()
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

void raise_agent_not_found(Datum agent_id)
{
    const char *id = DatumGetCString(DirectFunctionCall1(uuid_out, agent_id));
    if (agents_rls_active_c())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for agent \"%s\"", id),
                        errdetail("The agent does not exist or belongs to another owner.")));
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("agent \"%s\" does not exist", id)));
    pg_unreachable();
}

void raise_conversation_not_found(Datum agent_id, Datum conversation_id)
{
    if (agents_rls_active_c()) {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "switchboard: SPI_connect failed");
        Oid types[1] = {UUIDOID};
        Datum args[1] = {agent_id};
        int rc = SPI_execute_with_args("SELECT FROM switchboard.agents WHERE agent_id OPERATOR(pg_catalog.=) $1",
                                       1, types, args, nullptr, true, 1);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "switchboard: SPI_execute_with_args failed (%s)", SPI_result_code_string(rc));
        if (SPI_processed == 0)
            raise_agent_not_found(agent_id);
        SPI_finish();
    }
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                    errmsg("conversation \"%s\" does not exist",
                           DatumGetCString(DirectFunctionCall1(uuid_out, conversation_id)))));
    pg_unreachable();
}

bool agents_row_security_active()
{
    return call(agents_rls_active_c);
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

}  // namespace switchboard::pg

// agent_not_found(agent uuid): raises the error above, for SQL and PL/pgSQL callers.
SB_FUNCTION(agent_not_found)
{
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("agent_not_found: agent must not be null")));
    switchboard::pg::raise_agent_not_found(PG_GETARG_DATUM(0));
}
