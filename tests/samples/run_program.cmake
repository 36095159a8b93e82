# Runs a sample as a user does and checks what it did:
#   cmake -DPROGRAM=exe [-DARGS=a@@b] [-DEXPECT_RC=0] [-DSTDOUT_MATCHES=re1@@re2]
#         [-DSTDOUT_NOT_MATCHES=re] -P run_program.cmake
# (lists joined with "@@": a ";" would split the test's command line)
# Fails (naming the program, its exit status and its output) when the exit status is not
# EXPECT_RC (0 by default), or stdout misses a STDOUT_MATCHES expression or has a
# STDOUT_NOT_MATCHES one.
if(NOT PROGRAM)
  message(FATAL_ERROR "run_program.cmake: give -DPROGRAM=<the program to run>")
endif()
foreach(list ARGS STDOUT_MATCHES STDOUT_NOT_MATCHES)
  string(REPLACE "@@" ";" ${list} "${${list}}")
endforeach()
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
execute_process(COMMAND ${PROGRAM} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
string(JOIN " " what "${PROGRAM}" ${ARGS})
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "${what}: exit status ${rc}, expected ${EXPECT_RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
foreach(re IN LISTS STDOUT_MATCHES)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "${what}: stdout does not match '${re}'\nstdout:\n${out}\nstderr:\n${err}")
  endif()
endforeach()
foreach(re IN LISTS STDOUT_NOT_MATCHES)
  if(out MATCHES "${re}")
    message(FATAL_ERROR "${what}: stdout matches '${re}', it should not\nstdout:\n${out}")
  endif()
endforeach()
