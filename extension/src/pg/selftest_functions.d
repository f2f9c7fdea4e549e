extension/src/pg/selftest_functions.o: \
 extension/src/pg/selftest_functions.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/error.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/error.hpp:
