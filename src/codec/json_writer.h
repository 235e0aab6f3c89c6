// Appends JSON text to a string without building a document first, for answers on the
// hot path (allocation). The caller writes keys and values in order and balances
// Begin/End; commas go in by themselves. Strings are escaped as RFC 8259 requires;
// UTF-8 passes through unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace muster::codec {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  // A value that is JSON text already. REQUIRES: `json` is one well-formed JSON value.
  JsonWriter& Raw(std::string_view json);
  // {"k": "v", ...} in the map's (sorted) order.
  JsonWriter& StringMap(const std::map<std::string, std::string>& m);

  // "key": value, the common case.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void BeforeValue();

  std::string& out_;
  bool sibling_ = false;  // a value precedes at this level: the next one needs a comma
};

// True if `s` is well-formed UTF-8 throughout.
bool IsUtf8(std::string_view s);

// `s` as a JSON string literal, quotes included, appended to `out`. Bytes that are not
// well-formed UTF-8 are written as U+FFFD, as JSON requires text.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace muster::codec
