# Compiles SOURCE (C++20, -fsyntax-only) and passes when it fails with EXPECT in the output.
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -x c++ -I${INCLUDES} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a compile error, but ${SOURCE} compiled")
endif()
string(FIND "${out}${err}" "${EXPECT}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "the compile error does not say '${EXPECT}':\n${err}")
endif()
message(STATUS "compile error as expected: '${EXPECT}'")
