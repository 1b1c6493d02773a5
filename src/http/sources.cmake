# http module sources (facefleet_service).
target_sources(facefleet_service PRIVATE http/webhook.cpp)
