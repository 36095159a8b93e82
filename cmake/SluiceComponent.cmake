# sluice_install_component(<name> TARGET <target> [DEPS <file>])
#
# Installs one piece of sluice as a component of the installed package: its target goes
# into its own export file (sluice-<name>-targets.cmake) and DEPS, when given, is
# installed as sluice-<name>-deps.cmake, the find_dependency calls of that component
# alone. sluiceConfig.cmake loads both only when a user's project asks for the component
# (find_package(sluice COMPONENTS <name>)), so linking sluice::engine alone needs nothing
# but oneTBB, whatever else was built.
set(SLUICE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sluice)

function(sluice_install_component name)
  cmake_parse_arguments(C "" "TARGET;DEPS" "" ${ARGN})
  install(TARGETS ${C_TARGET} EXPORT sluice-${name}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT sluice-${name}-targets NAMESPACE sluice::
    DESTINATION ${SLUICE_CMAKE_INSTALL_DIR})
  if(C_DEPS)
    install(FILES ${C_DEPS} DESTINATION ${SLUICE_CMAKE_INSTALL_DIR}
      RENAME sluice-${name}-deps.cmake)
  endif()
  if(NOT name STREQUAL "engine")
    set_property(GLOBAL APPEND PROPERTY SLUICE_INSTALLED_COMPONENTS ${name})
  endif()
endfunction()
