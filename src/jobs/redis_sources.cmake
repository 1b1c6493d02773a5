# Redis Streams backend of the job queue (libfacefleet_service), on the shared Redis client
# (redis/sources.cmake, included before this file).
target_sources(facefleet_service PRIVATE jobs/redis_queue.cpp jobs/redis_queue_record.cpp jobs/redis_queue_scripts.cpp)
