# http module sources (facefleet_service).
target_sources(facefleet_service PRIVATE http/webhook.cpp)
# API keys (SQLite and Redis stores) and per-key rate limits (in-process and Redis), on the shared Redis client.
target_sources(facefleet_service PRIVATE http/key_store_sqlite.cpp http/key_store_redis.cpp http/rate_limit.cpp
               http/rate_limit_redis.cpp)
