# Project-wide compiler flags: warnings (as errors by default) and the optional sanitizer build.
add_library(facefleet_flags INTERFACE)
target_compile_options(facefleet_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                       -Wold-style-cast -Wcast-align -Wnull-dereference -Wimplicit-fallthrough
                       # GCC 12 reports false -Wrestrict positives inside std::string concatenation (GCC PR 105329).
                       $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(FACEFLEET_WERROR)
  target_compile_options(facefleet_flags INTERFACE -Werror)
endif()
if(FACEFLEET_SANITIZE)
  # With sanitizers GCC 12 warns -Wmaybe-uninitialized inside libstdc++'s std::regex/std::function (false
  # positives: the instrumentation hides the initialisation from its flow analysis), so that one warning is off here.
  target_compile_options(facefleet_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=all $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  target_link_options(facefleet_flags INTERFACE -fsanitize=address,undefined)
endif()
