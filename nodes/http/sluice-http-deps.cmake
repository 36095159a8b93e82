# Dependencies of sluice::http for find_package(sluice COMPONENTS http): the static
# library links libcurl privately, which a user's link still needs.
include(CMakeFindDependencyMacro)
find_dependency(CURL)
