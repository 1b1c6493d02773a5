# Every dependency comes from Debian packages, except ONNX Runtime, which scripts/install-deps places in
# third_party/onnxruntime (from the npm registry).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
# Image codecs, called directly (src/media/*_codec.cpp) rather than through OpenCV's imgcodecs: see below.
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
pkg_check_modules(WEBP REQUIRED IMPORTED_TARGET GLOBAL libwebp)
# The model manager: downloads (libcurl), FaceFusion's CRC32 .hash files (zlib), SHA-256 in models.lock (OpenSSL).
find_package(CURL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
# libonnx reads initializers (inswapper's emap) and the tests' model generator writes models. Protobuf must be
# found before ONNX, whose config needs protobuf's targets.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
# The library links only FACEFLEET_OPENCV_LIBS. libopencv_imgcodecs pulls in 69 more shared libraries (GDAL, poppler,
# HDF5, GDCM, …) and doubled every process's start-up time (`facefleet --version`: 0.23 s with it, 0.11 s without),
# so only the tests link it: they use cv::imread/imdecode/imencode as an independent oracle for our codecs.
set(FACEFLEET_OPENCV_LIBS opencv_core opencv_imgproc opencv_calib3d opencv_photo)
if(FACEFLEET_BUILD_TESTS)
  find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc calib3d photo imgcodecs)
else()
  find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc calib3d photo)
endif()
# dlib's pkg-config file lists BLAS/LAPACK as absolute paths, which pkg_check_modules' imported target drops;
# dlib's headers call them directly, so link them explicitly.
find_library(DLIB_LIBRARY dlib REQUIRED)
find_path(DLIB_INCLUDE_DIR dlib/revision.h REQUIRED)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
add_library(dlib::dlib SHARED IMPORTED)
set_target_properties(dlib::dlib PROPERTIES
  IMPORTED_LOCATION "${DLIB_LIBRARY}"
  INTERFACE_LINK_LIBRARIES "${LAPACK_LIBRARIES};${BLAS_LIBRARIES};Threads::Threads")

set(FACEFLEET_ORT_DIR "${PROJECT_SOURCE_DIR}/third_party/onnxruntime" CACHE PATH "ONNX Runtime install (lib/, include/)")
find_library(ONNXRUNTIME_LIBRARY onnxruntime PATHS "${FACEFLEET_ORT_DIR}/lib" NO_DEFAULT_PATH)
find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h PATHS "${FACEFLEET_ORT_DIR}/include" NO_DEFAULT_PATH)
if(NOT ONNXRUNTIME_LIBRARY OR NOT ONNXRUNTIME_INCLUDE_DIR)
  message(FATAL_ERROR "ONNX Runtime not found in ${FACEFLEET_ORT_DIR}: run scripts/install-deps")
endif()
add_library(onnxruntime::onnxruntime SHARED IMPORTED)
set_target_properties(onnxruntime::onnxruntime PROPERTIES
  IMPORTED_LOCATION "${ONNXRUNTIME_LIBRARY}"
  IMPORTED_SONAME "libonnxruntime.so.1"
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${ONNXRUNTIME_INCLUDE_DIR}"
  INTERFACE_INCLUDE_DIRECTORIES "${ONNXRUNTIME_INCLUDE_DIR}")
# Binaries find libonnxruntime.so.1 next to the build tree without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH "${FACEFLEET_ORT_DIR}/lib")
# Installed binaries find it in ../lib/facefleet (cmake/install.cmake).
include(GNUInstallDirs)
set(CMAKE_INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}/facefleet")

# The job service: SQLite queue, JSON, HTTP server/client (cpp-httplib, as llama.cpp's server uses).
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)

if(FACEFLEET_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# Real public-domain photos shipped by Debian (see samples/README.md for their licences).
find_file(FACEFLEET_SAMPLE_GRACE grace_hopper.jpg PATHS /usr/share/matplotlib/mpl-data/sample_data NO_DEFAULT_PATH)
find_file(FACEFLEET_SAMPLE_ASTRONAUT astronaut.png PATHS /usr/lib/python3/dist-packages/skimage/data NO_DEFAULT_PATH)
