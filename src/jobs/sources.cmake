# jobs module sources (facefleet_service).
target_sources(facefleet_service PRIVATE jobs/job.cpp jobs/sqlite_db.cpp jobs/sqlite_jobs.cpp jobs/sqlite_queue.cpp)
