extension/src/pg/guard.o: extension/src/pg/guard.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/error.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/error.hpp:
