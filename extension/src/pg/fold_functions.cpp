// stats_settle_messages(): the wait that makes a fold of the analytics from
// the raw messages exact (0.9.0; README "Analytics", "The fold").  Owns no C++
// object with a destructor: plain Postgres calls inside the guard.
#include "switchboard/pg_guard.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
}

// stats_settle_messages() returns boolean: waits for every transaction that
// holds a lock on switchboard.messages conflicting with SHARE (a writer) when
// it is called, as CREATE INDEX CONCURRENTLY waits, without blocking new
// writers.  A message_id read before the call (a max(message_id) in an earlier
// statement) is then settled: every id up to it is committed or rolled back,
// because a writer takes its lock before it draws its id, and ids are drawn in
// order (the identity has CACHE 1).  Returns false, without waiting, where a
// fold cannot use the wait: a read-only transaction, a transaction snapshot
// (REPEATABLE READ, SERIALIZABLE: later statements would not see what the wait
// settled), or a transaction that has written already while another writer is
// open (waiting for it could deadlock with a wait of its own on this one).
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
    if (TransactionIdIsValid(GetTopTransactionIdIfAny())) {
        // a backend never conflicts with itself: only other writers count
        int count = 0;
        VirtualTransactionId *writers = GetLockConflicts(&tag, ShareLock, &count);
        PG_RETURN_BOOL(count == 0 && !VirtualTransactionIdIsValid(writers[0]));
    }
    WaitForLockers(tag, ShareLock, false);
    PG_RETURN_BOOL(true);
}
