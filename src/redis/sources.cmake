# The shared Redis client (libfacefleet_service), on hiredis (Debian: libhiredis-dev): used by the job queue
# (jobs/redis_sources.cmake), the API key store and the rate limiter (http/sources.cmake).
# GLOBAL: the tests link hiredis too (their redis-server helper pings the server it starts).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET GLOBAL hiredis)
target_sources(facefleet_service PRIVATE redis/connection.cpp redis/script.cpp redis/url.cpp)
target_link_libraries(facefleet_service PRIVATE PkgConfig::HIREDIS)
