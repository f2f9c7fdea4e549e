extension/src/pg/security_functions.o: \
 extension/src/pg/security_functions.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/pg_security.hpp \
 extension/include/switchboard/error.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/pg_security.hpp:
extension/include/switchboard/error.hpp:
