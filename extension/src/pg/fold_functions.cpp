// stats_settle_messages(): the wait that makes a fold of the analytics from
// the raw messages exact (0.9.0; README "Analytics", "The fold from the raw
// rows"); tokens_used_fits(), the check that keeps every stored message
// foldable, and stats_is_task(), which the fold asks of every outbound
// message (0.10.0).  They own no C++ object with a destructor: plain Postgres
// calls inside the guard, so an error (the lock timeout, 22003) may leave
// through it.
#include "switchboard/pg_guard.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

namespace {

// switchboard.fold_wait_ms: how long a fold waits for the writers open when
// it starts (default 200 ms; 0: it folds only when none is open).  Not a
// defined GUC: a placeholder any session or ALTER ... SET may give.
constexpr long default_fold_wait_ms = 200;

long fold_wait_ms()
{
    const char *setting = GetConfigOption("switchboard.fold_wait_ms", true, false);
    if (setting == nullptr || *setting == '\0')
        return default_fold_wait_ms;
    char *end = nullptr;
    errno = 0;
    long ms = strtol(setting, &end, 10);
    if (errno != 0 || end == setting || *end != '\0' || ms < 0 || ms > 3600000)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid value for switchboard.fold_wait_ms: \"%s\"", setting),
                        errhint("Give a number of milliseconds from 0 to 3600000.")));
    return ms;
}

}  // namespace

// stats_settle_messages() returns boolean: waits for every transaction that
// holds a lock on switchboard.messages conflicting with SHARE (a writer) when
// it is called, as CREATE INDEX CONCURRENTLY waits, without blocking new
// writers.  A message_id read before the call (a max(message_id) in an earlier
// statement) is then settled: every id up to it is committed or rolled back,
// because a writer takes its lock before it draws its id, and ids are drawn in
// order (the identity has CACHE 1).  The wait is a lock wait (visible in
// pg_locks, cancellable) bounded by switchboard.fold_wait_ms as lock_timeout:
// past it, ERROR 55P03, which rollup() catches (it folds next time).  Returns
// false, without waiting, where a fold cannot use the wait: a read-only
// transaction, a transaction snapshot (REPEATABLE READ, SERIALIZABLE: later
// statements would not see what the wait settled), or, while another writer
// is open, fold_wait_ms = 0 or a transaction that has written already (waiting
// could deadlock with a wait of that writer on this one).
SB_FUNCTION(stats_settle_messages)
{
    (void) fcinfo;  // no arguments
    if (XactReadOnly || IsolationUsesXactSnapshot())
        PG_RETURN_BOOL(false);
    Oid nsp = get_namespace_oid("switchboard", false);
    Oid messages = get_relname_relid("messages", nsp);
    if (!OidIsValid(messages))
        elog(ERROR, "switchboard: relation switchboard.messages does not exist");
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, messages);
    long wait_ms = fold_wait_ms();
    if (wait_ms == 0 || TransactionIdIsValid(GetTopTransactionIdIfAny())) {
        // a backend never conflicts with itself: only other writers count
        int count = 0;
        VirtualTransactionId *writers = GetLockConflicts(&tag, ShareLock, &count);
        PG_RETURN_BOOL(count == 0 && !VirtualTransactionIdIsValid(writers[0]));
    }
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", wait_ms);
    int nest_level = NewGUCNestLevel();
    (void) set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    WaitForLockers(tag, ShareLock, false);
    AtEOXact_GUC(true, nest_level);
    PG_RETURN_BOOL(true);
}

// tokens_used_fits(metadata jsonb) -> true, or ERROR 22003 "bigint out of
// range" when metadata's tokens_used is a number that does not round to a
// bigint: the analytics add tokens_used up as bigint, so such a message would
// fail every later fold of its agent.  The check messages_tokens_used_check
// (0.10.0; 0.9.0 wrote it as an expression, which Postgres parses and plans
// again in every statement that inserts a message).
SB_FUNCTION(tokens_used_fits)
{
    Jsonb *metadata = PG_GETARG_JSONB_P(0);
    if (!JB_ROOT_IS_OBJECT(metadata))
        PG_RETURN_BOOL(true);
    JsonbValue *tokens = getKeyJsonValueFromContainer(&metadata->root, "tokens_used", 11, nullptr);
    if (tokens == nullptr || tokens->type != jbvNumeric)
        PG_RETURN_BOOL(true);
    Datum rounded = DirectFunctionCall2(numeric_round, NumericGetDatum(tokens->val.numeric), Int32GetDatum(0));
    Datum lowest = NumericGetDatum(int64_to_numeric(PG_INT64_MIN));
    Datum highest = NumericGetDatum(int64_to_numeric(PG_INT64_MAX));
    if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, rounded, lowest)) < 0 ||
        DatumGetInt32(DirectFunctionCall2(numeric_cmp, rounded, highest)) > 0) {
        char *shown = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(tokens->val.numeric)));
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("bigint out of range"),
                        errdetail("metadata.tokens_used is %.40s%s, which does not fit a bigint.", shown,
                                  strlen(shown) > 40 ? "..." : "")));
    }
    PG_RETURN_BOOL(true);
}

// stats_is_task(metadata jsonb) -> whether an outbound message's metadata
// carries AI task facts: tokens_used, processing_ms, success or category, as
// jsonb's ?| tests them (a key of the object, or a string element of an array).
// C since 0.10.0: the SQL function (SET search_path, so not inlined) cost the
// fold about 1 µs a message.
SB_FUNCTION(stats_is_task)
{
    Jsonb *metadata = PG_GETARG_JSONB_P(0);
    static const char *const keys[] = {"tokens_used", "processing_ms", "success", "category"};
    for (const char *key : keys) {
        JsonbValue wanted;
        wanted.type = jbvString;
        wanted.val.string.val = const_cast<char *>(key);
        wanted.val.string.len = static_cast<int>(strlen(key));
        if (findJsonbValueFromContainer(&metadata->root, JB_FOBJECT | JB_FARRAY, &wanted) != nullptr)
            PG_RETURN_BOOL(true);
    }
    PG_RETURN_BOOL(false);
}
