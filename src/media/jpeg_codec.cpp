// JPEG through libjpeg-turbo (decode straight to BGR, encode from BGR).
//
// Error handling: libjpeg reports a fatal error by calling error_exit, which must not return. Ours jumps back to
// the setjmp in the one function that drives libjpeg (RunDecode/RunEncode). Only libjpeg's C frames and the
// callbacks below lie between the two, and none of them owns an object with a destructor; everything with one
// (the pixels, the output buffer) belongs to the caller of RunDecode/RunEncode, so the jump skips nothing.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <new>
#include <string>

#include <opencv2/core.hpp>

#include "media/image_codecs.hpp"

// The order matters: jpeglib.h uses FILE and size_t without including <stdio.h>, so it comes after <cstdio>, and
// jerror.h (the message codes) depends on jpeglib.h's configuration.
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

namespace facefleet::media {
namespace {

using Bytes = std::span<const std::uint8_t>;

// `pub` must be the first member: libjpeg hands the callbacks a pointer to it.
struct JpegErrors {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool past_headers;  // the frame header has been read; entropy-coded data follows
};

[[noreturn]] void FailJpeg(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// More stray bytes than this before a marker in the image data mean the decoder lost step with the data.
constexpr int kStrayBytesTolerated = 16;

// Warnings that mean the entropy-coded data is damaged; libjpeg would carry on and paint the rest grey or with
// garbage, so they fail the decode. libjpeg-turbo's fast Huffman path decodes an invalid code as zero without a
// warning, so the usual sign of damage in the middle of a scan is that the decoder loses step with the data: it
// runs into the next marker early (JWRN_HIT_MARKER) or stops short of it, leaving bytes over (JWRN_EXTRANEOUS_DATA).
// A few stray bytes before a marker are a known quirk of some encoders, and before the image data of some metadata
// writers, so those pass. The other warnings (an unknown JFIF version or Adobe transform, a bad ICC profile) are
// ignored. Nothing is ever printed.
bool IsDamage(const JpegErrors& errors) {
  switch (errors.pub.msg_code) {
    case JWRN_EXTRANEOUS_DATA:
      return errors.past_headers && errors.pub.msg_parm.i[0] > kStrayBytesTolerated;
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_HIT_MARKER:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
      return true;
    default:
      return false;
  }
}

// level -1 is a warning; levels >= 0 are trace messages, which are off by default.
void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && IsDamage(*reinterpret_cast<JpegErrors*>(cinfo->err))) FailJpeg(cinfo);
}

void InitErrors(JpegErrors* errors) {
  jpeg_std_error(&errors->pub);
  errors->pub.error_exit = FailJpeg;
  errors->pub.emit_message = OnJpegMessage;
  errors->message[0] = '\0';
  errors->past_headers = false;
}

[[noreturn]] void FailOutOfMemory(j_common_ptr cinfo) {
  cinfo->err->msg_code = JERR_OUT_OF_MEMORY;
  cinfo->err->msg_parm.i[0] = 0;
  FailJpeg(cinfo);
}

// The first APP1 segment that carries an orientation decides (XMP also lives in APP1).
int OrientationOf(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    if (const int orientation = ExifOrientation({m->data, m->data_length}); orientation != 1) return orientation;
  }
  return 1;
}

// CMYK JPEGs are written the Adobe way, inverted (255 = no ink), and libjpeg hands the samples over as stored (it
// turns YCCK into the same CMYK). With c = 255 - C and k = 255 - K: R = (1 - C)(1 - K) = c·k / 255, likewise G, B.
cv::Mat CmykToBgr(const cv::Mat& cmyk) {
  cv::Mat bgr(cmyk.size(), CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const std::uint8_t* in = cmyk.ptr(y);
    std::uint8_t* out = bgr.ptr(y);
    for (int x = 0; x < cmyk.cols; ++x, in += 4, out += 3) {
      const unsigned k = in[3];
      out[0] = static_cast<std::uint8_t>((in[2] * k + 127) / 255);
      out[1] = static_cast<std::uint8_t>((in[1] * k + 127) / 255);
      out[2] = static_cast<std::uint8_t>((in[0] * k + 127) / 255);
    }
  }
  return bgr;
}

struct DecodeState {
  cv::Mat pixels;  // BGR, or CMYK as stored when `cmyk`
  bool cmyk = false;
  int orientation = 1;
};

bool RunDecode(Bytes bytes, DecodeState* state, JpegErrors* errors) {
  jpeg_decompress_struct cinfo{};
  cinfo.err = &errors->pub;
  if (setjmp(errors->jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  errors->past_headers = true;
  state->cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = state->cmyk ? JCS_CMYK : JCS_EXT_BGR;  // grey, YCbCr and RGB all convert to BGR
  jpeg_start_decompress(&cinfo);
  state->orientation = OrientationOf(cinfo);
  if (!TryCreatePixels(&state->pixels, static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
                       state->cmyk ? CV_8UC4 : CV_8UC3)) {
    FailOutOfMemory(reinterpret_cast<j_common_ptr>(&cinfo));
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = state->pixels.ptr(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// A libjpeg destination that writes into the caller's vector, growing it as needed. (jpeg_mem_dest cannot be used:
// after a failure its buffer may already have been reallocated behind our pointer, so it can be neither freed
// safely nor leaked cleanly.)
struct VectorDestination {
  jpeg_destination_mgr pub;  // first: libjpeg hands the callbacks a pointer to it
  EncodedImage* out;
};

bool Grow(VectorDestination* dest, std::size_t size) noexcept {
  try {
    dest->out->resize(size);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

void InitDestination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t guess = static_cast<std::size_t>(cinfo->image_width) * cinfo->image_height / 4 + 4096;
  if (!Grow(dest, guess)) FailOutOfMemory(reinterpret_cast<j_common_ptr>(cinfo));
  dest->pub.next_output_byte = dest->out->data();
  dest->pub.free_in_buffer = dest->out->size();
}

boolean EmptyOutputBuffer(j_compress_ptr cinfo) {  // called when the buffer is full
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t used = dest->out->size();
  if (!Grow(dest, used * 2)) FailOutOfMemory(reinterpret_cast<j_common_ptr>(cinfo));
  dest->pub.next_output_byte = dest->out->data() + used;
  dest->pub.free_in_buffer = dest->out->size() - used;
  return TRUE;
}

void TermDestination(j_compress_ptr cinfo) {
  auto* dest = reinterpret_cast<VectorDestination*>(cinfo->dest);
  dest->out->resize(dest->out->size() - dest->pub.free_in_buffer);  // shrinking never allocates
}

bool RunEncode(const cv::Mat& bgr, int quality, VectorDestination* dest, JpegErrors* errors) {
  jpeg_compress_struct cinfo{};
  cinfo.err = &errors->pub;
  if (setjmp(errors->jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  dest->pub.init_destination = InitDestination;
  dest->pub.empty_output_buffer = EmptyOutputBuffer;
  dest->pub.term_destination = TermDestination;
  cinfo.dest = &dest->pub;
  cinfo.image_width = static_cast<JDIMENSION>(bgr.cols);
  cinfo.image_height = static_cast<JDIMENSION>(bgr.rows);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_EXT_BGR;
  jpeg_set_defaults(&cinfo);  // YCbCr with 4:2:0 subsampling and the standard Huffman tables, as OpenCV wrote
  jpeg_set_quality(&cinfo, std::clamp(quality, 1, 100), TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPLE*>(bgr.ptr(static_cast<int>(cinfo.next_scanline)));  // libjpeg only reads it
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

Result<cv::Mat> DecodeJpeg(Bytes bytes) {
  JpegErrors errors{};
  InitErrors(&errors);
  DecodeState state;
  if (!RunDecode(bytes, &state, &errors)) {
    return Status(ErrorCode::kInputUnreadable, std::string("corrupt JPEG data (") + errors.message + ")");
  }
  return ApplyExifOrientation(state.cmyk ? CmykToBgr(state.pixels) : state.pixels, state.orientation);
}

Result<EncodedImage> EncodeJpeg(const cv::Mat& bgr, int quality) {
  JpegErrors errors{};
  InitErrors(&errors);
  EncodedImage out;
  VectorDestination dest{{}, &out};
  if (!RunEncode(bgr, quality, &dest, &errors)) {
    return Status(ErrorCode::kInternal, std::string("image encoder failed: ") + errors.message);
  }
  return out;
}

}  // namespace facefleet::media
