extension/src/pg/phone_functions.o: extension/src/pg/phone_functions.cpp \
 extension/include/switchboard/pg_guard.hpp \
 extension/include/switchboard/error.hpp \
 extension/include/switchboard/phone.hpp
extension/include/switchboard/pg_guard.hpp:
extension/include/switchboard/error.hpp:
extension/include/switchboard/phone.hpp:
