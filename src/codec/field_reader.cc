#include "codec/field_reader.h"

#include <algorithm>
#include <cmath>

namespace muster::codec {

FieldReader::FieldReader(const json* value, std::string path, std::vector<FieldError>* errors,
                         bool exact_strings)
    : value_(value), path_(std::move(path)), errors_(errors), exact_strings_(exact_strings) {
  if (value_ != nullptr && !value_->is_object()) {
    if (!value_->is_null()) Error(path_.empty() ? "(document)" : path_, "must be an object");
    value_ = nullptr;
  }
}

const json* FieldReader::Find(const char* key) const {
  if (value_ == nullptr) return nullptr;
  auto it = value_->find(key);
  return it == value_->end() || it->is_null() ? nullptr : &*it;
}

bool FieldReader::present(const char* key) { return Get(key) != nullptr; }

void FieldReader::Ignore(const char* key) {
  if (!Seen(key)) seen_.emplace_back(key);
}

bool FieldReader::Seen(std::string_view key) const {
  return std::find(seen_.begin(), seen_.end(), key) != seen_.end();
}

const json* FieldReader::Get(const char* key) {
  Ignore(key);
  return Find(key);
}

const json* FieldReader::Raw(const char* key) { return Get(key); }

std::optional<std::string> FieldReader::String(const char* key) {
  const json* v = Get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Error(PathOf(key), "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> FieldReader::Int(const char* key, int64_t min, int64_t max) {
  const json* v = Get(key);
  if (!v) return std::nullopt;
  int64_t n = 0;
  if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (const double d = v->is_number_float() ? v->get<double>() : 0.5;
             std::isfinite(d) && std::abs(d) < 9.0e18 && d == std::trunc(d)) {  // in range: no UB
    n = static_cast<int64_t>(d);
  } else {
    Error(PathOf(key), "must be an integer");
    return std::nullopt;
  }
  if (n < min || n > max) {
    Error(PathOf(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> FieldReader::Bool(const char* key) {
  const json* v = Get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Error(PathOf(key), "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> FieldReader::Strings(const char* key) {
  const json* v = Get(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    Error(PathOf(key), "must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (e.is_string()) {
      out.push_back(e.get<std::string>());
    } else if (!exact_strings_ && (e.is_number() || e.is_boolean())) {
      out.push_back(e.dump());  // YAML `args: [7777]` means the string "7777"
    } else {
      Error(PathOf(key) + "[" + std::to_string(i) + "]", "must be a string");
    }
  }
  return out;
}

std::optional<core::Labels> FieldReader::StringMap(const char* key) {
  const json* v = Get(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) {
    Error(PathOf(key), "must be a map of strings");
    return std::nullopt;
  }
  core::Labels out;
  for (const auto& [k, e] : v->items()) {
    if (e.is_string())
      out[k] = e.get<std::string>();
    else if (!exact_strings_ && (e.is_number() || e.is_boolean()))
      out[k] = e.dump();
    else
      Error(PathOf(key) + "." + k, "must be a string");
  }
  return out;
}

FieldReader FieldReader::Object(const char* key) {
  FieldReader child(Get(key), PathOf(key), errors_, exact_strings_);
  child.discard_unknown_ = discard_unknown_;
  return child;
}

void FieldReader::Array(const char* key,
                        const std::function<void(const json&, const std::string&)>& each) {
  const json* v = Get(key);
  if (!v) return;
  if (!v->is_array()) {
    Error(PathOf(key), "must be a list");
    return;
  }
  for (size_t i = 0; i < v->size(); ++i) each((*v)[i], PathOf(key) + "[" + std::to_string(i) + "]");
}

void FieldReader::RejectUnknown() {
  if (value_ == nullptr || discard_unknown_) return;
  for (const auto& [k, v] : value_->items()) {
    if (!Seen(k)) Error(PathOf(k.c_str()), "unknown field \"" + k + "\"");
  }
}

void FieldReader::Members(const char* key,
                          const std::function<void(const std::string&, FieldReader&)>& each) {
  const json* obj = Raw(key);
  if (!obj) return;
  if (!obj->is_object()) return Error(PathOf(key), "must be an object keyed by name");
  for (const auto& [name, value] : obj->items()) {
    FieldReader member(&value, PathOf(key) + "." + name, errors_, exact_strings_);
    member.discard_unknown_ = discard_unknown_;
    each(name, member);
    member.RejectUnknown();
  }
}

}  // namespace muster::codec
