// SPI plans prepared once per backend and kept (SPI_prepare + SPI_keepplan),
// shared by the native functions and triggers that run fixed query text.
// Plan-cache invalidation re-plans them when the tables change.
#pragma once

#include "switchboard/pg_guard.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace switchboard::pg {

// A query and its argument types; `plan` is filled on first use.
struct Plan {
    SPIPlanPtr plan;
    const char *sql;
    int nargs;
    Oid types[16];
};

// The kept plan of `p`, preparing it on first use (elog on failure).
SPIPlanPtr prepared(Plan *p);

// SPI_execute_plan of `p`; elog(ERROR) naming the query on failure.  Returns
// SPI's result code.
int run_plan(Plan *p, Datum *values, const char *nulls, bool read_only, long count);

}  // namespace switchboard::pg
