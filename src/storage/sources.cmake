# storage module sources (facefleet_service).
target_sources(facefleet_service PRIVATE storage/storage.cpp storage/file_storage.cpp)
