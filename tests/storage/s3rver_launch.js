// Starts s3rver, an S3 emulator on node, for tests/storage/s3_storage_test.cpp and prints "listening <port>" on
// stdout once it accepts connections.
//
//   node --openssl-legacy-provider s3rver_launch.js <s3rver package directory> <data directory> <bucket>
//
// (s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.)
//
// Listens on 127.0.0.1 with a port the kernel picks. Requests to 127.0.0.1 are path-style; requests to
// <bucket>.s3.localhost are virtual-hosted. Any access key works except that s3rver knows only "S3RVER"
// (others get 403 InvalidAccessKeyId); s3rver does not check SigV4 signatures (s3_unit_test does that).
//
// s3rver's filesystem store takes shortcuts where real S3 does not, and the Storage contract tests exactly those
// places. This launcher patches them, so the tests check our backend and not the emulator:
//   1. PUT writes the object file in place, so a concurrent GET may read a truncated object. S3 replaces objects
//      atomically: objects are written to a temporary file and renamed into place.
//   2. GET looks the file up twice (size, then bytes), which after (1) may be two different files. It now opens
//      the file once and serves size and bytes from it; like S3, any range of an empty object is unsatisfiable.
//   3. AbortMultipartUpload answers 405. It now removes the upload and its parts (204), or answers NoSuchUpload.
//   4. Deletes remove emptied directories without expecting concurrent deletes in the same directory, and fail
//      with 500 (ENOENT, ENOTEMPTY) when there are some. Those errors are ignored.
//   5. An object's file is named "<last key segment>._S3rver_object", so a segment longer than about 230 bytes
//      fails with ENAMETOOLONG, but S3 keys may have 1024 bytes. Long segments are stored under a hash name, and
//      listings map them back.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Readable, Transform } = require('stream');
const { pipeline } = require('stream/promises');

const [packageDir, dataDir, bucket] = process.argv.slice(2);
const S3rver = require(packageDir);
const FilesystemStore = require(path.join(packageDir, 'lib/stores/filesystem'));
const S3Object = require(path.join(packageDir, 'lib/models/object'));
const S3Error = require(path.join(packageDir, 'lib/models/error'));
const store = FilesystemStore.prototype;

// (5) Long last segments. Room is left for s3rver's longest suffix ("._S3rver_metadata.json").
const kMaxSegmentBytes = 200;
const kLongPrefix = '~long-';
const lastSegment = key => key.split('/').pop();
const isLong = key => Buffer.byteLength(lastSegment(key)) > kMaxSegmentBytes;

const originalResourcePath = store.getResourcePath;
store.getResourcePath = function getResourcePath(bucketName, key = '', resource) {
  if (isLong(key)) {
    const parts = key.split('/');
    const hash = crypto.createHash('sha256').update(parts.pop()).digest('hex');
    key = [...parts, kLongPrefix + hash.slice(0, 32)].join('/');
  }
  return originalResourcePath.call(this, bucketName, key, resource);
};

const originalList = store.listObjects;
store.listObjects = async function listObjects(bucketName, options) {
  const result = await originalList.call(this, bucketName, options);
  for (const object of result.objects) {
    if (lastSegment(object.key).startsWith(kLongPrefix)) {
      object.key = await fs.promises.readFile(this.getResourcePath(bucketName, object.key, 'key'), 'utf8');
    }
  }
  return result;
};

// (1) Atomic replacement.
store.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  const temp = `${objectPath}.${crypto.randomBytes(8).toString('hex')}.tmp`;
  let handle;
  // A concurrent delete may remove the directory between mkdir and open.
  for (let attempt = 0; !handle; attempt++) {
    await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
    handle = await fs.promises.open(temp, 'wx').catch(err => {
      if (err.code !== 'ENOENT' || attempt >= 5) throw err;
    });
  }
  const md5 = crypto.createHash('md5');
  let size = 0;
  const hash = new Transform({
    transform(chunk, encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  try {
    await pipeline(source, hash, handle.createWriteStream());
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  const digest = md5.digest('hex');
  if (isLong(object.key)) {
    await fs.promises.writeFile(this.getResourcePath(object.bucket, object.key, 'key'), object.key);
  }
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  await fs.promises.rename(temp, objectPath);
  return { size, md5: digest };
};

// (2) One file per GET.
store.getObject = async function getObject(bucketName, key, options) {
  let handle;
  try {
    handle = await fs.promises.open(this.getResourcePath(bucketName, key, 'object'), 'r');
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  try {
    const stat = await handle.stat();
    // Metadata (content type, ETag) may already belong to a newer version; the bytes and size never do.
    const metadata = await this.getMetadata(bucketName, key).catch(() => ({}));
    Object.assign(metadata, { 'content-length': stat.size, 'last-modified': stat.mtime.toUTCString() });
    const object = new S3Object(bucketName, key, null, metadata);
    const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
    const range = {
      start: (options && options.start) || 0,
      end: Math.min(options && options.end !== undefined ? options.end : Infinity, stat.size - 1),
    };
    if (ranged) object.range = range;
    if (range.start > range.end) {
      await handle.close();
      if (!ranged) object.content = Readable.from([]);  // a whole empty object
      return object;
    }
    object.content = handle.createReadStream({ start: range.start, end: range.end });
    return object;
  } catch (err) {
    await handle.close();
    throw err;
  }
};

// (4) Concurrent deletes.
const originalDelete = store.deleteObject;
store.deleteObject = async function deleteObject(bucketName, key) {
  if (isLong(key)) await fs.promises.rm(this.getResourcePath(bucketName, key, 'key'), { force: true });
  try {
    await originalDelete.call(this, bucketName, key);
  } catch (err) {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') throw err;
  }
};

// (3) AbortMultipartUpload, as a middleware ahead of s3rver's router (which answers 405).
function abortMultipartUpload(app) {
  return async function abort(ctx, next) {
    if (ctx.method !== 'DELETE' || ctx.query.uploadId === undefined) return next();
    const uploadId = String(ctx.query.uploadId);
    const bucketName = ctx.path.split('/')[1];
    const dir = path.join(app.store.getResourcePath(bucketName, undefined, 'uploads'), uploadId);
    const exists = /^[0-9a-f]+$/.test(uploadId) && fs.existsSync(dir);
    if (!exists) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
    }
    await fs.promises.rm(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: dataDir,
  silent: true,
  serviceEndpoint: 'localhost',
  configureBuckets: [{ name: bucket, configs: [] }],
});
server.middleware.splice(server.middleware.length - 1, 0, abortMultipartUpload(server));
server.run().then(
  ({ port }) => process.stdout.write(`listening ${port}\n`),
  err => {
    process.stderr.write(`s3rver failed to start: ${err.stack}\n`);
    process.exit(1);
  },
);
