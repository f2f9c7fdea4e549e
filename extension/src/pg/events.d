extension/src/pg/events.o: extension/src/pg/events.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/limits.hpp \
 extension/include/switchboard/phone.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/limits.hpp:
extension/include/switchboard/phone.hpp:
