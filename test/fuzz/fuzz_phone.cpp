// libFuzzer target over the phone normalizer core: any bytes, any region, and
// the answer must match libphonenumber's (normalize_reference) exactly: success or
// failure, the failure's reason and the E.164 string.  normalize() takes the native
// fast path where it can, so this is the fast path's differential test.
#include "switchboard/cpp_only.hpp"
#include "switchboard/phone.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

using namespace switchboard::phone;

namespace {
const char *const regions[] = {"", "US", "GB", "DE", "FR", "IT", "AR", "MX", "BR", "IN", "CN", "JP",
                               "RU", "AU", "NZ", "SG", "AE", "IR", "EG", "NG", "ZA", "KR", "XX", "us"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *code = regions[data[0] % (sizeof regions / sizeof regions[0])];
    std::string_view raw(reinterpret_cast<const char *>(data + 1), size - 1);
    Region region = parse_region(code, strlen(code), false);

    E164 fast, reference;
    Failure a = normalize(raw, region, fast);
    Failure b = normalize_reference(raw, region, reference);
    // Same answer and the same reason (the errdetail comes from it).
    if (a != b)
        abort();
    if (a == Failure::none && fast.view() != reference.view())
        abort();
    (void) is_valid(raw, region);
    Info info;
    (void) switchboard::phone::info(raw, region, info);
    return 0;
}
