// Catch2 runner for the pure C++ core: no server needed.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
