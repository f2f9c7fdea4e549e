// The first include of every file of switchboard's pure C++ core
// (extension/src/core/*.cpp, the unit tests, the fuzz target).
//
// The core (phone parsing, limit arithmetic) must never see Postgres: a Postgres
// ERROR is a longjmp that would skip C++ destructors.  Only files under
// extension/src/pg/ include postgres.h; they reach the core through the
// plain-typed interfaces of phone.hpp, limits.hpp, ... which include no
// Postgres header either.
#pragma once

#if defined(POSTGRES_H) || defined(C_H) || defined(FMGR_H)
#error "pure C++ core file includes postgres.h; move the Postgres code to extension/src/pg/"
#endif

// Any later #include "postgres.h" becomes empty, so the first use of a Postgres
// type or function in this file fails to compile.
#define POSTGRES_H
#define C_H
#define FMGR_H
