extension/src/pg/touch_functions.o: extension/src/pg/touch_functions.cpp \
 extension/include/switchboard/pg_guard.hpp
extension/include/switchboard/pg_guard.hpp:
