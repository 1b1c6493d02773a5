# Redis Streams backend of the job queue (libfacefleet_service), on hiredis (Debian: libhiredis-dev).
# GLOBAL: the tests link hiredis too (their redis-server helper pings the server it starts).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET GLOBAL hiredis)
target_sources(facefleet_service PRIVATE jobs/redis_queue.cpp jobs/redis_queue_conn.cpp jobs/redis_queue_record.cpp
               jobs/redis_queue_scripts.cpp)
target_link_libraries(facefleet_service PRIVATE PkgConfig::HIREDIS)
