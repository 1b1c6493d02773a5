# metrics module sources (facefleet_service).
target_sources(facefleet_service PRIVATE metrics/metrics.cpp)
