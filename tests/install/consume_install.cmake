# cmake -P: install BUILD_DIR into WORK_DIR/prefix, then build and run users' projects
# against it with find_package(sluice):
#   1. engine only, with every node family's outside library hidden from CMake (CURL,
#      CUDAToolkit, PkgConfig for libevent): linking sluice::engine needs oneTBB alone;
#   2. COMPONENTS http http_server window image gpu: each family with its dependencies;
#   3. a component that does not exist (the configure step fails, naming it), and the http
#      component with libcurl hidden (it fails on CURL: the dependency is the component's).
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
# expect_configure_failure(<build dir> <regex> <cmake args>...)
function(expect_configure_failure dir regex)
  execute_process(COMMAND ${CMAKE_COMMAND} -B ${dir} ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "configure should have failed: ${ARGN}\n${out}")
  endif()
  if(NOT "${out}${err}" MATCHES "${regex}")
    message(FATAL_ERROR "configure failed without '${regex}': ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "failed as expected, saying '${regex}'")
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(common -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
set(hide_families -DCMAKE_DISABLE_FIND_PACKAGE_CURL=ON
                  -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON
                  -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The files an engine-only project loads name no family's library at all.
file(GLOB config_dir ${prefix}/lib*/cmake/sluice)
foreach(f sluiceConfig.cmake sluice-engine-targets.cmake)
  file(READ ${config_dir}/${f} text)
  if(text MATCHES "CURL|CUDA|LIBEVENT|turbojpeg")
    message(FATAL_ERROR "${f} refers to a node family's dependency:\n${text}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE}/consumer -B ${WORK_DIR}/engine ${common}
    ${hide_families})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/engine)
run(${WORK_DIR}/engine/consumer)

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE}/consumer_components -B ${WORK_DIR}/components
    ${common})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/components)
run(${WORK_DIR}/components/component_consumer)

expect_configure_failure(${WORK_DIR}/unknown "sluice has no component 'nosuch'"
  -S ${CONSUMER_SOURCE}/consumer_components ${common} -DSLUICE_WANTED=nosuch)
expect_configure_failure(${WORK_DIR}/no_curl "sluice-http-deps.cmake.*CURL|CURL.*sluice-http-deps"
  -S ${CONSUMER_SOURCE}/consumer_components ${common} -DSLUICE_WANTED=http
  -DCMAKE_DISABLE_FIND_PACKAGE_CURL=ON)
