# `cmake --install` lays out a relocatable tree (the container image copies it to /opt/facefleet):
#   bin/facefleet, bin/facefleet-sim             RUNPATH $ORIGIN/../lib/facefleet
#   lib/facefleet/libonnxruntime.so.1 (+ providers_shared)         component "runtime"
#   lib/facefleet/libonnxruntime_providers_{cuda,tensorrt}.so      component "gpu", only when
#                                                                  `scripts/install-deps --gpu` fetched them
# ONNX Runtime loads its provider libraries from the directory that holds libonnxruntime, so both components
# install into the same folder.
# CMAKE_INSTALL_RPATH is set in cmake/dependencies.cmake: it must be set before the targets are created.
install(TARGETS facefleet_cli facefleet-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES "${FACEFLEET_ORT_DIR}/lib/libonnxruntime.so" DESTINATION ${CMAKE_INSTALL_LIBDIR}/facefleet
        RENAME libonnxruntime.so.1 COMPONENT runtime)
install(FILES "${FACEFLEET_ORT_DIR}/lib/libonnxruntime_providers_shared.so"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/facefleet COMPONENT runtime)
foreach(provider cuda tensorrt)
  set(provider_lib "${FACEFLEET_ORT_DIR}/lib/libonnxruntime_providers_${provider}.so")
  if(EXISTS "${provider_lib}")
    install(FILES "${provider_lib}" DESTINATION ${CMAKE_INSTALL_LIBDIR}/facefleet COMPONENT gpu)
  endif()
endforeach()
