// The native fast path of phone normalization: libphonenumber's Parse +
// IsPossibleNumber + Format(E164) re-done for the common spellings over tables
// built once per process from libphonenumber's own metadata blob.  Where it is
// not certain to give libphonenumber's exact answer it says so, and the caller
// (phone::normalize) asks libphonenumber instead.  Pure C++, no Postgres.
#pragma once

#include "switchboard/phone.hpp"

#include <cstdint>
#include <string_view>

namespace switchboard::phone::fast {

enum class Verdict : uint8_t {
    answered,   // failure (and out, when none) hold libphonenumber's answer
    fallback,   // not covered natively: ask libphonenumber
};

// Parse + IsPossibleNumber + Format(E164) natively when provably identical.
// No heap allocation after the tables are built (first call).
Verdict normalize(std::string_view raw, const Region &region, E164 &out, Failure &failure);

// Whether an upper-case two-letter code is a region libphonenumber supports.
bool region_supported(char a, char b);

// Build the tables now (they are otherwise built on first use).
void warm_up();

}  // namespace switchboard::phone::fast
