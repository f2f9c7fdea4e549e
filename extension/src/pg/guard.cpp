// The boundary guard: see include/switchboard/pg_guard.hpp.
#include "switchboard/pg_guard.hpp"
#include "switchboard/error.hpp"

#include <new>

extern "C" {
#include "utils/memutils.h"

PG_MODULE_MAGIC;
}

namespace switchboard::pg {

namespace {

// Copies at most size-1 bytes and never splits a UTF-8 sequence.
void copy_text(char *dest, size_t size, const char *src)
{
    size_t n = 0;
    while (src[n] != '\0' && n + 1 < size)
        n++;
    if (src[n] != '\0')
        while (n > 0 && (static_cast<unsigned char>(src[n]) & 0xC0) == 0x80)
            n--;
    memcpy(dest, src, n);
    dest[n] = '\0';
}

}  // namespace

Datum guard(const char *function_name, Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo)
{
    // Everything the error report needs lives in trivially destructible storage,
    // so nothing is lost when ereport() jumps out of this frame.
    ErrorData *pg_error = nullptr;
    char state[6] = "XX000";
    char message[2048];
    char detail[2048];
    char hint[1024];
    message[0] = detail[0] = hint[0] = '\0';

    try {
        return body(fcinfo);
    } catch (const PgError &e) {
        pg_error = e.data();
    } catch (const switchboard::Error &e) {
        copy_text(state, sizeof state, e.sqlstate());
        copy_text(message, sizeof message, e.what());
        copy_text(detail, sizeof detail, e.detail().c_str());
        copy_text(hint, sizeof hint, e.hint().c_str());
    } catch (const std::bad_alloc &) {
        copy_text(state, sizeof state, "53200");
        copy_text(message, sizeof message, "out of memory");
        copy_text(detail, sizeof detail, function_name);
    } catch (const std::exception &e) {
        copy_text(message, sizeof message, e.what());
    } catch (...) {
        copy_text(message, sizeof message, "unknown C++ exception");
    }

    // The C++ frames are gone: it is safe to jump now.
    if (pg_error != nullptr)
        ReThrowError(pg_error);

    int code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
    if (code == ERRCODE_INTERNAL_ERROR)
        ereport(ERROR, (errcode(code), errmsg_internal("switchboard.%s: %s", function_name, message)));
    ereport(ERROR, (errcode(code), errmsg_internal("%s", message),
                    detail[0] ? errdetail_internal("%s", detail) : 0,
                    hint[0] ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void throw_current_error(MemoryContext context)
{
    MemoryContextSwitchTo(context);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    throw PgError(edata);
}

}  // namespace switchboard::pg
