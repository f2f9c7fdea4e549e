extension/src/core/phone.o: extension/src/core/phone.cpp \
 extension/include/switchboard/cpp_only.hpp \
 extension/include/switchboard/phone.hpp
extension/include/switchboard/cpp_only.hpp:
extension/include/switchboard/phone.hpp:
