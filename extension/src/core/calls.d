extension/src/core/calls.o: extension/src/core/calls.cpp \
 extension/include/switchboard/cpp_only.hpp \
 extension/include/switchboard/calls.hpp
extension/include/switchboard/cpp_only.hpp:
extension/include/switchboard/calls.hpp:
