// guard_selftest: proves the boundary guard.  Not executable by PUBLIC.
#include "switchboard/pg_guard.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include "switchboard/error.hpp"

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct NotAStdException {};

// Owns destructors on every level, so an unguarded longjmp out of here would leak
// and skip them; the counter lets the test see that they ran.
int destructors_run = 0;

struct Tracked {
    std::string payload = std::string(64, 'x');
    ~Tracked() { destructors_run++; }
};

[[noreturn]] void fail(const std::string &kind)
{
    if (kind == "switchboard")
        throw switchboard::Error(switchboard::sqlstate::check_violation,
                                 "selftest rule broken", "raised deep in C++", "this is a hint");
    if (kind == "std")
        throw std::runtime_error("selftest std::runtime_error");
    if (kind == "bad_alloc")
        throw std::bad_alloc();
    if (kind == "other")
        throw NotAStdException{};
    if (kind == "postgres") {
        // A Postgres ERROR raised while C++ objects are alive: pg::call turns it
        // into an exception so they unwind, and the guard re-raises it unchanged.
        switchboard::pg::call([] { (void) DirectFunctionCall1(int4in, CStringGetDatum("not an int")); });
    }
    throw switchboard::Error(switchboard::sqlstate::invalid_parameter_value,
                             "unknown selftest kind \"" + kind + "\"");
}

int descend(const std::string &kind, int depth)
{
    Tracked tracked;
    std::vector<std::unique_ptr<Tracked>> more;
    more.push_back(std::make_unique<Tracked>());
    if (depth == 0) {
        if (kind == "none")
            return 0;
        fail(kind);
    }
    return descend(kind, depth - 1) + static_cast<int>(more.size());
}

}  // namespace

// guard_selftest(kind text) -> raises the requested kind of error ten C++ frames deep;
// kind 'none' returns normally, 'count' returns how many destructors have run so far.
SB_FUNCTION(guard_selftest)
{
    char *kind_cstr = text_to_cstring(PG_GETARG_TEXT_PP(0));
    std::string kind(kind_cstr);
    if (kind == "count")
        PG_RETURN_INT32(destructors_run);
    PG_RETURN_INT32(descend(kind, 10));
}
