# Node families build on the engine's public headers only (docs/architecture.md, "Layers"):
# no family header or source includes sluice/detail/, and no family installs headers
# into the engine's sluice/detail/ folder. Fails naming every offending file.
#   cmake -DROOT=<source dir> -P family_boundaries.cmake
file(GLOB_RECURSE family_files
  ${ROOT}/nodes/*.hpp ${ROOT}/nodes/*.cpp ${ROOT}/nodes/*.cu)
set(offences "")
foreach(f IN LISTS family_files)
  file(RELATIVE_PATH rel ${ROOT} ${f})
  if(rel MATCHES "^nodes/[^/]+/include/sluice/detail/")
    list(APPEND offences "${rel}: a family header in the engine's sluice/detail/")
  endif()
  file(STRINGS ${f} lines REGEX "#[ \t]*include[ \t]*[<\"]sluice/detail/")
  foreach(line IN LISTS lines)
    list(APPEND offences "${rel}: ${line}")
  endforeach()
endforeach()
list(LENGTH family_files n)
if(n EQUAL 0)
  message(FATAL_ERROR "family_boundaries: no files found under ${ROOT}/nodes")
endif()
if(offences)
  list(JOIN offences "\n  " text)
  message(FATAL_ERROR "node families reach into the engine's internals:\n  ${text}")
endif()
message(STATUS "family_boundaries: ${n} files, none includes sluice/detail/")
