// The C++/Postgres boundary, in one place.
//
// Two rules keep a C++ extension from crashing its backend:
//   1. No C++ exception may propagate into Postgres code.
//   2. No Postgres ERROR (a siglongjmp) may unwind C++ frames that own destructors.
//
// SB_FUNCTION(name) declares the SQL-callable C entry point `name` and runs its
// C++ body inside guard(): every exception is caught there, its SQLSTATE and text
// are copied into plain stack buffers, and ereport() is called only after the
// try/catch has ended, so no C++ frame with a destructor is live when it jumps.
//
// pg::call(f, args...) is the reverse guard, for C++ code that must call into
// Postgres while it owns objects with destructors: it runs f inside PG_TRY and
// turns an ERROR into a PgError exception, which unwinds the C++ frames normally
// and is re-raised unchanged (same SQLSTATE, message, detail) by guard().
//
// A body may call Postgres directly (PG_GETARG_*, palloc, ...) only while it owns
// no C++ object with a destructor; after that, through pg::call.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/elog.h"
}

#include <exception>
#include <type_traits>
#include <utility>

namespace switchboard::pg {

// A Postgres ERROR caught by pg::call, on its way back to guard().
class PgError : public std::exception {
public:
    explicit PgError(ErrorData *edata) : edata_(edata) {}
    const char *what() const noexcept override
    {
        return edata_ && edata_->message ? edata_->message : "postgres error";
    }
    ErrorData *data() const noexcept { return edata_; }

private:
    ErrorData *edata_;  // palloc'd by CopyErrorData, not owned
};

// Runs body(fcinfo) and converts any exception into a Postgres ERROR.
Datum guard(const char *function_name, Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

// Captures the current Postgres error as a PgError and throws it.  Only called
// from the PG_CATCH block of call() below.
[[noreturn]] void throw_current_error(MemoryContext context);

// Reverse guard: call a Postgres function from C++ that owns destructors.
template <typename F, typename... Args>
auto call(F &&f, Args &&...args) -> decltype(f(std::forward<Args>(args)...))
{
    using Result = decltype(f(std::forward<Args>(args)...));
    MemoryContext context = CurrentMemoryContext;
    bool failed = false;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        {
            f(std::forward<Args>(args)...);
        }
        PG_CATCH();
        {
            failed = true;
        }
        PG_END_TRY();
        if (failed)
            throw_current_error(context);
    } else {
        Result result{};
        PG_TRY();
        {
            result = f(std::forward<Args>(args)...);
        }
        PG_CATCH();
        {
            failed = true;
        }
        PG_END_TRY();
        if (failed)
            throw_current_error(context);
        return result;
    }
}

}  // namespace switchboard::pg

// Declares SQL-callable `name` (V1 calling convention) whose body runs under guard().
#define SB_FUNCTION(name)                                                                 \
    static Datum name##_body(FunctionCallInfo fcinfo);                                    \
    extern "C" {                                                                          \
    PG_FUNCTION_INFO_V1(name);                                                            \
    Datum name(PG_FUNCTION_ARGS) { return switchboard::pg::guard(#name, name##_body, fcinfo); } \
    }                                                                                     \
    static Datum name##_body(FunctionCallInfo fcinfo)
