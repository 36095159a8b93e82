# distance_matrix --mpi under mpirun writes the same bytes as one process.
#   cmake -DPROGRAM=... -DMPIEXEC=... -DRANKS=n -DMPIFLAGS=a@@b -DLOCATIONS=n -DDIR=... -P <this>
# (MPIFLAGS joined with "@@": a ";" would split the command line on its way here.)
string(REPLACE "@@" ";" MPIFLAGS "${MPIFLAGS}")
file(MAKE_DIRECTORY ${DIR})
set(one ${DIR}/one_${LOCATIONS}.csv)
set(many ${DIR}/ranks${RANKS}_${LOCATIONS}.csv)
execute_process(COMMAND ${PROGRAM} --generate ${LOCATIONS} -t 2 -o ${one}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "one process failed (${rc}): ${err}")
endif()
execute_process(
  COMMAND ${MPIEXEC} -np ${RANKS} ${MPIFLAGS} ${PROGRAM} --generate ${LOCATIONS} -t 1 --mpi
          --report -o ${many}
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun -np ${RANKS} failed (${rc}): ${err}")
endif()
file(SHA256 ${one} a)
file(SHA256 ${many} b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "${RANKS} ranks wrote different bytes from one process: ${many} vs ${one}")
endif()
# The reduced report is printed once, by rank 0, and counts every row of every rank.
math(EXPR rows "${LOCATIONS} - 1")
string(REGEX MATCHALL "run: [0-9]+ produced" runs "${err}")
list(LENGTH runs printed)
if(NOT printed EQUAL 1 OR NOT runs STREQUAL "run: ${rows} produced")
  message(FATAL_ERROR "expected one report of ${rows} rows, got '${runs}' in:\n${err}")
endif()
message(STATUS "${RANKS} ranks, ${LOCATIONS} locations: identical (${a})")
