# Dependencies of sluice::image for find_package(sluice COMPONENTS image): the static
# library links TurboJPEG by name ("turbojpeg"); say so here when it is not installed,
# rather than at the user's link step.
find_library(SLUICE_TURBOJPEG_LIBRARY NAMES turbojpeg libturbojpeg)
if(NOT SLUICE_TURBOJPEG_LIBRARY)
  set(sluice_FOUND FALSE)
  set(sluice_NOT_FOUND_MESSAGE
      "sluice::image needs libjpeg-turbo's TurboJPEG (libturbojpeg; Debian: libturbojpeg0-dev)")
  return()
endif()
