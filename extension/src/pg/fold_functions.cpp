// stats_settle_messages(): the wait that makes a fold of the analytics from
// the raw messages exact (0.9.0; README "Analytics", "The fold from the raw
// rows").  Owns no C++ object with a destructor: plain Postgres calls inside
// the guard, so an error (the lock timeout) may leave through it.
#include "switchboard/pg_guard.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
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
