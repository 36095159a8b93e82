# sluice_warnings(target): the warning set every sluice target builds with.
function(sluice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
endfunction()
