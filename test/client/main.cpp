// Catch2 runner for the client library against a live server: the cluster
// comes from the PG* environment (test/run-tests.sh, suite "client").
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
