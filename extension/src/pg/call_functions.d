extension/src/pg/call_functions.o: extension/src/pg/call_functions.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/calls.hpp \
 extension/include/switchboard/error.hpp \
 extension/include/switchboard/phone.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/calls.hpp:
extension/include/switchboard/error.hpp:
extension/include/switchboard/phone.hpp:
