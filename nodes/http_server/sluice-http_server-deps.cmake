# Dependencies of sluice::http_server for find_package(sluice COMPONENTS http_server):
# the static library links libevent's core and its HTTP server (evhttp, in libevent_extra)
# through the pkg-config imported target PkgConfig::SLUICE_LIBEVENT.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
find_dependency(ZLIB)
if(NOT TARGET PkgConfig::SLUICE_LIBEVENT)
  pkg_check_modules(SLUICE_LIBEVENT QUIET IMPORTED_TARGET GLOBAL libevent_core libevent_extra)
endif()
if(NOT TARGET PkgConfig::SLUICE_LIBEVENT)
  set(${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)
  set(${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE
      "sluice::http_server needs libevent (pkg-config libevent_core and libevent_extra; "
      "Debian: libevent-dev)")
  return()
endif()
