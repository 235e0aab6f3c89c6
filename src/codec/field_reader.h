// Strict, path-aware reading of a JSON object: every type error and every unknown
// key becomes a FieldError naming the field; nothing throws.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"

namespace muster::codec {

using core::FieldError;
using nlohmann::json;

class FieldReader {
 public:
  // `value` must outlive the reader. A non-object `value` is reported once at `path`.
  // Strings and string maps take a number or a boolean as its text (YAML's `port: 7777`
  // in a manifest), unless `exact_strings` (JSON-only requests: a matchmaker's `1` for
  // "1" is a mistake to report). Child readers inherit it.
  FieldReader(const json* value, std::string path, std::vector<FieldError>* errors,
              bool exact_strings = false);

  // Whether `key` has a value (absent and null are both "not set"). Asking marks the key
  // as known, so a `null` where a section may go is not reported as an unknown field.
  bool present(const char* key);
  std::optional<std::string> String(const char* key);
  std::optional<int64_t> Int(const char* key, int64_t min, int64_t max);
  std::optional<bool> Bool(const char* key);
  std::optional<std::vector<std::string>> Strings(const char* key);
  std::optional<core::Labels> StringMap(const char* key);
  // A child object; an absent key yields a reader over nothing (all reads absent).
  FieldReader Object(const char* key);
  // Calls `each` for every element of an array field with the element's path.
  void Array(const char* key, const std::function<void(const json&, const std::string&)>& each);
  // Calls `each(name, member)` for every member of the object field `key` (a map keyed
  // by name); each member's unknown keys are reported after `each` returns.
  void Members(const char* key, const std::function<void(const std::string&, FieldReader&)>& each);
  // The raw value, if present (marks the key as known).
  const json* Raw(const char* key);
  // Accepts the key without reading it.
  void Ignore(const char* key);
  // Reports every key that was neither read nor ignored. Call once, after reading.
  // Does nothing once DiscardUnknown() was called (on this reader or an ancestor).
  void RejectUnknown();
  // From now on unknown keys are accepted and dropped, here and in the child readers
  // made after this call: what a protocol that ignores unknown fields asks for (Agones'
  // gateway does; a client built for a newer version may send fields Muster lacks).
  void DiscardUnknown() { discard_unknown_ = true; }

  const std::string& path() const { return path_; }
  bool exact_strings() const { return exact_strings_; }
  std::string PathOf(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  void Error(const std::string& field, std::string message) {
    errors_->push_back({field, std::move(message)});
  }

 private:
  const json* Get(const char* key);         // marks `key` read
  const json* Find(const char* key) const;  // the value, unless absent or null
  bool Seen(std::string_view key) const;
  const json* value_;
  std::string path_;
  std::vector<FieldError>* errors_;
  bool exact_strings_;
  bool discard_unknown_ = false;
  std::vector<std::string> seen_;  // a handful of keys: a scan beats a tree
};

}  // namespace muster::codec
