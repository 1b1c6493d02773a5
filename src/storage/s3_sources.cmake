# S3 storage backend sources (facefleet_service): SigV4 signing, the libcurl S3 client and the Storage backend.
target_sources(facefleet_service PRIVATE storage/sigv4.cpp storage/s3_client.cpp storage/s3_storage.cpp)
