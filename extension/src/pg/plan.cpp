// SPI plans prepared once per backend and kept (switchboard/pg_plan.hpp).
#include "switchboard/pg_plan.hpp"

namespace switchboard::pg {

SPIPlanPtr prepared(Plan *p)
{
    if (p->plan == nullptr) {
        SPIPlanPtr plan = SPI_prepare(p->sql, p->nargs, p->types);
        if (plan == nullptr)
            elog(ERROR, "switchboard: SPI_prepare failed (%s): %s", SPI_result_code_string(SPI_result),
                 p->sql);
        if (SPI_keepplan(plan) != 0)
            elog(ERROR, "switchboard: SPI_keepplan failed");
        p->plan = plan;
    }
    return p->plan;
}

int run_plan(Plan *p, Datum *values, const char *nulls, bool read_only, long count)
{
    int rc = SPI_execute_plan(prepared(p), values, nulls, read_only, count);
    if (rc < 0)
        elog(ERROR, "switchboard: SPI_execute_plan failed (%s): %s", SPI_result_code_string(rc), p->sql);
    return rc;
}

}  // namespace switchboard::pg
