// Built into the gpu test binaries of an ASan build with CUDA. The CUDA driver maps memory
// in the range ASan keeps as its protected "shadow gap", so cuInit fails under ASan's
// defaults; protect_shadow_gap=0 lets it start. ASAN_OPTIONS from the environment (the asan
// test preset's detect_leaks, abort_on_error) are applied on top of these defaults.
extern "C" const char* __asan_default_options() {
  return "protect_shadow_gap=0";
}

// The driver keeps allocations for the life of the process; they are not the project's.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcuda.so\nleak:libnvidia-\n";
}
