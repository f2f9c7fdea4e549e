extension/src/core/limits.o: extension/src/core/limits.cpp \
 extension/include/switchboard/cpp_only.hpp \
 extension/include/switchboard/limits.hpp
extension/include/switchboard/cpp_only.hpp:
extension/include/switchboard/limits.hpp:
