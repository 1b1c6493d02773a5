// S3 Storage backend: objects in an S3 bucket (AWS, or any S3-compatible store: MinIO, Cloudflare R2, Ceph,
// s3rver), spoken to over HTTP(S) with libcurl and signed with SigV4 (sigv4.hpp).
//
// Storage key "jobs/j1/in.png" is S3 object "<prefix>/jobs/j1/in.png" (or "jobs/j1/in.png" without a prefix),
// so several deployments can share one bucket.
//
// Semantics on top of S3's (strong read-after-write consistency, atomic object replacement):
//   - Writers buffer up to part_size bytes and then switch to a multipart upload (parts of part_size bytes, the
//     last one smaller); smaller objects go up as one PUT at Commit. Either way the object appears at Commit.
//     Abort (or destroying an uncommitted Writer) aborts the multipart upload; should that request fail, the
//     parts stay until a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes them.
//   - Reads stream the response body to the sink as it arrives; an interrupted transfer resumes where it
//     stopped (Range + If-Match on the ETag, so a replaced object is never stitched onto the old one).
//   - Transport errors, timeouts and 5xx answers (503 SlowDown) are retried with exponential back-off and jitter,
//     up to max_attempts; 4xx answers never are. After the last attempt: kUnavailable.
//   - Refused credentials (403, InvalidAccessKeyId, SignatureDoesNotMatch) and a missing bucket are
//     kOutputFailed with a message naming the bucket and S3's error code, never a credential. AWS answers 403
//     instead of 404 for missing objects to callers without s3:ListBucket on the bucket: grant it.
//   - Commit's ObjectInfo::modified_ms is this machine's clock; Stat and List report the store's.
//   - OpenS3Storage does not contact the store (Ping does): a service starts while S3 is briefly unreachable.
//
// Thread safety: as Storage; HTTP connections are pooled and reused across calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "facefleet/status.hpp"
#include "storage/storage.hpp"

namespace facefleet::storage {

struct S3Options {
  std::string bucket;
  std::string prefix;    // "" or a valid key ("deploy/prod"): objects live below "<prefix>/"
  std::string endpoint;  // "http://127.0.0.1:4568" (scheme://host[:port]); "" = AWS (https://s3.<region>.amazonaws.com)
  std::string region = "us-east-1";
  // true: https://endpoint/bucket/key; false: https://bucket.endpoint/key (virtual-hosted, AWS's default).
  // Bucket names with dots always go path-style over https (no certificate matches them as host names).
  bool path_style = false;

  // Credentials. Never read from a URL and never logged; OpenS3Storage fills empty ones from the environment
  // (LoadS3Credentials). Tests set them here.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary (STS) credentials only

  std::size_t part_size = std::size_t{8} << 20;  // multipart part size and single-PUT limit; at least 5 MiB
  int max_attempts = 3;                          // per request, counting the first
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // An attempt fails when no byte moves for this long (whole seconds, at least 1): a hung server or a dead
  // network ends in kUnavailable instead of a hang. Transfers that keep moving may take as long as they need.
  std::chrono::milliseconds stall_timeout{30000};
  int list_page_size = 1000;  // ListObjectsV2 max-keys (S3 caps it at 1000)
};

// Parses "s3://bucket[/prefix][?endpoint=http://host:port&region=eu-west-1&path_style=1]". The region defaults to
// us-east-1; path_style defaults to 1 with an endpoint (MinIO and most self-hosted stores need it) and to 0
// without. kUsage for anything else: a bad bucket name or prefix, unknown parameters, and credentials in the URL
// (user:secret@ or access_key=...), which would end up in shell history and process listings.
Result<S3Options> ParseS3Url(const std::string& url);

// Fills empty credentials in `options`: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the
// files named by FACEFLEET_S3_ACCESS_KEY_FILE and FACEFLEET_S3_SECRET_KEY_FILE (mounted secrets; one trailing
// newline is ignored). kUsage when no access key and secret are found or a named file cannot be read.
Status LoadS3Credentials(S3Options& options);

// Checks the options (LoadS3Credentials for missing credentials) and returns the backend; kUsage for bad options.
Result<std::unique_ptr<Storage>> OpenS3Storage(const S3Options& options);

}  // namespace facefleet::storage
