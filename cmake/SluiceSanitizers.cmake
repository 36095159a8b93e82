# Sanitizer builds, included after find_package(TBB).
#   SLUICE_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/).
#   SLUICE_TSAN:     ThreadSanitizer (build-tsan/), against a oneTBB built with TSan by
#                    scripts/tsan_tbb.sh: TSan cannot see the synchronisation inside an
#                    uninstrumented libtbb, and its hundreds of reports would hide real races.
if(SLUICE_SANITIZE AND SLUICE_TSAN)
  message(FATAL_ERROR "SLUICE_SANITIZE and SLUICE_TSAN cannot be combined")
endif()

if(SLUICE_SANITIZE)
  # vptr checks trip on oneTBB's own flow-graph internals (input_node task bypass).
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(SLUICE_TSAN)
  # scripts/tsan_tbb.sh leaves this stamp in the prefix it installs; TBB_DIR points there.
  if(NOT EXISTS "${TBB_DIR}/../../../sluice-tsan-tbb.stamp")
    message(FATAL_ERROR "SLUICE_TSAN needs oneTBB built with TSan, found ${TBB_DIR}. "
                        "Run scripts/build.sh --tsan (it builds one with scripts/tsan_tbb.sh).")
  endif()
  # -Wno-tsan: gcc says for every use of std::atomic_thread_fence (in oneTBB's headers)
  # that TSan does not model fences; sluice itself uses none.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()

if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang (libFuzzer): see scripts/fuzz.sh")
  endif()
  # Coverage for libFuzzer in every sluice object; the fuzz targets link libFuzzer itself.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=vptr
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
