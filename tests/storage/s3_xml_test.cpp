// The S3 client's XML, URL and date helpers (src/storage/s3_client.hpp); no network.
#include <string>

#include <gtest/gtest.h>

#include "storage/s3_client.hpp"

namespace facefleet::storage::s3 {
namespace {

TEST(S3Xml, ElementsMatchWholeTagNamesOnly) {
  const std::string xml =
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><KeyCount>2</KeyCount>"
      "<Contents><Key>a</Key><Size>1</Size></Contents>"
      "<Contents><Key>b&amp;c</Key><Size>22</Size></Contents><Key/></ListBucketResult>";
  const auto contents = XmlElements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2U);
  EXPECT_EQ(XmlText(contents[0], "Key"), "a");
  EXPECT_EQ(XmlText(contents[1], "Key"), "b&c");
  EXPECT_EQ(XmlText(contents[1], "Size"), "22");
  // <KeyCount> is not a <Key>; the self-closing <Key/> is an empty one.
  const auto keys = XmlElements(xml, "Key");
  ASSERT_EQ(keys.size(), 3U);
  EXPECT_EQ(keys[2], "");
  EXPECT_EQ(XmlText(xml, "KeyCount"), "2");
  EXPECT_EQ(XmlElements(xml, "ListBucketResult").size(), 1U);
  EXPECT_EQ(XmlText(xml, "Missing"), "");
  EXPECT_TRUE(XmlElements("<Key>unterminated", "Key").empty());
}

TEST(S3Xml, ErrorDocument) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>x</BucketName></Error>";
  EXPECT_EQ(XmlText(xml, "Code"), "NoSuchBucket");
  EXPECT_EQ(XmlText(xml, "Message"), "The specified bucket does not exist");
}

TEST(S3Xml, EntitiesRoundTrip) {
  EXPECT_EQ(XmlUnescape("&amp;&lt;&gt;&quot;&apos;&#38;&#x26;&#X41;&#x1F600;&#233;"),
            "&<>\"'&&A\xf0\x9f\x98\x80\xc3\xa9");
  // Unknown or malformed entities stay as they are.
  EXPECT_EQ(XmlUnescape("&bogus; & &#xZZ; &#99999999;"), "&bogus; & &#xZZ; &#99999999;");
  const std::string text = "a&b<c>d\"e'f ETag \"abc\"";
  EXPECT_EQ(XmlEscape(text), "a&amp;b&lt;c&gt;d&quot;e&apos;f ETag &quot;abc&quot;");
  EXPECT_EQ(XmlUnescape(XmlEscape(text)), text);
}

TEST(S3Xml, UrlDecode) {
  EXPECT_EQ(UrlDecode("jobs%2Fa+b%C3%A9"), "jobs/a b\xc3\xa9");
  EXPECT_EQ(UrlDecode("100%"), "100%");
  EXPECT_EQ(UrlDecode("%zz%4"), "%zz%4");
}

TEST(S3Dates, Iso8601) {
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.000Z"), 1255369830000);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.5Z"), 1255369830500);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30Z"), 1255369830000);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30.123456Z"), 1255369830123);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12 17:50:30"), -1);
  EXPECT_EQ(ParseIso8601Ms("2009-10-12T17:50:30+01:00"), -1);
  EXPECT_EQ(ParseIso8601Ms(""), -1);
}

TEST(S3Dates, HttpDate) {
  EXPECT_EQ(ParseHttpDateMs("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480000);
  EXPECT_EQ(ParseHttpDateMs("not a date"), -1);
}

}  // namespace
}  // namespace facefleet::storage::s3
